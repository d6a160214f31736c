// Domain probes: questions whose answers must keep key facts (the names and numbers quantized
// models drop first). A probes file is a YAML list of {question, facts}; a fact is a string
// (case-insensitive substring), {regex, flags?}, or {number, tolerance?} (any number in the
// answer within ± tolerance).
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { QuantevalError } from "../../util/errors.js";

const factSchema = z.union([
  z.string().min(1),
  z
    .object({
      regex: z.string().min(1),
      flags: z
        .string()
        .regex(/^[dgimsuvy]*$/)
        .optional(),
    })
    .strict(),
  z.object({ number: z.number(), tolerance: z.number().min(0).default(0) }).strict(),
]);

const probeSchema = z
  .object({
    /** Optional label shown in the side-by-side listing. */
    id: z.string().min(1).optional(),
    question: z.string().min(1),
    facts: z.array(factSchema).min(1),
  })
  .strict();

export type Fact = z.infer<typeof factSchema>;
export type Probe = z.infer<typeof probeSchema>;

/** Reads and validates a probes YAML; errors name the file, the entry and the key. */
export function loadProbes(path: string): Probe[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new QuantevalError(`${path}: probes file not found; 'probes' must be a YAML list of {question, facts}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new QuantevalError(`${path}: malformed YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new QuantevalError(`${path}: a probes file is a non-empty YAML list of {question, facts} entries`);
  return raw.map((entry, i) => {
    const r = probeSchema.safeParse(entry);
    if (!r.success) {
      const issue = r.error.issues.find((i) => i.code === "unrecognized_keys") ?? r.error.issues[0];
      const at = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
      const msg =
        issue.code === "invalid_union" ? "a fact is a string, {regex, flags?} or {number, tolerance?}" : issue.code === "unrecognized_keys" ? `unknown key '${issue.keys[0]}'` : issue.message;
      throw new QuantevalError(`${path}: entry [${i}]${at}: ${msg}`);
    }
    r.data.facts.forEach((f, k) => {
      if (typeof f === "object" && "regex" in f) {
        try {
          new RegExp(f.regex, f.flags ?? "i");
        } catch (e) {
          throw new QuantevalError(`${path}: entry [${i}].facts[${k}]: invalid regex (${(e as Error).message})`);
        }
      }
    });
    return r.data;
  });
}

/** Numbers written in a text: "1,234.5", "-3", "0.25" (thousands commas removed). */
export function extractNumbers(text: string): number[] {
  return (text.match(/-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?/g) ?? []).map((s) => Number(s.replace(/,/g, "")));
}

const squash = (s: string) => s.toLowerCase().replace(/\s+/g, " ").trim();

/** True when the answer contains the fact. */
export function factFound(answer: string, fact: Fact): boolean {
  if (typeof fact === "string") return squash(answer).includes(squash(fact));
  if ("regex" in fact) return new RegExp(fact.regex, fact.flags ?? "i").test(answer);
  return extractNumbers(answer).some((x) => Math.abs(x - fact.number) <= fact.tolerance);
}

/** How a fact is shown in tables. */
export function factLabel(fact: Fact): string {
  if (typeof fact === "string") return fact;
  if ("regex" in fact) return `/${fact.regex}/${fact.flags ?? "i"}`;
  return fact.tolerance ? `${fact.number} ± ${fact.tolerance}` : String(fact.number);
}
