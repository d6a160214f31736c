// Flipped samples for the report, read from the run store: the first few per comparison
// whose answer changed between the baseline and a variant.
import type { RunReader } from "../../view/runReader.js";
import type { ReportExample } from "./buildHtmlReport.js";

/** The most characters of a prompt the report shows (its end, where the question is). */
const PROMPT_CHARS = 600;

function answer(s: Record<string, unknown>): string {
  const choices = s.choices;
  if (Array.isArray(choices) && typeof s.pred === "number") return String(choices[s.pred] ?? "");
  for (const k of ["output", "generation", "completion", "text"]) if (typeof s[k] === "string") return s[k] as string;
  return "";
}

function gold(s: Record<string, unknown>): string {
  if (Array.isArray(s.choices) && typeof s.gold === "number") return String(s.choices[s.gold] ?? "");
  return typeof s.reference === "string" ? s.reference : "";
}

/** Up to `perComparison` changed samples of every real variant (the noise-floor row skipped). */
export function collectExamples(reader: RunReader, perComparison = 5): ReportExample[] {
  const out: ReportExample[] = [];
  for (const c of reader.comparisons()) {
    if (c.variant === reader.results.noise_floor) continue;
    const page = reader.page({ task: c.task, variant: c.variant, filter: "changed", limit: perComparison });
    for (const { doc_id, baseline: b, variant: v } of page.rows) {
      const prompt = typeof b.prompt === "string" ? b.prompt : typeof b.context === "string" ? b.context : "";
      out.push({
        task: c.task,
        variant: c.variant,
        doc_id,
        kind: b.correct === true && v.correct === false ? "correct→wrong" : b.correct === false && v.correct === true ? "wrong→correct" : "changed",
        prompt: prompt.length > PROMPT_CHARS ? `…${prompt.slice(-PROMPT_CHARS)}` : prompt,
        gold: gold(b),
        baseline_answer: answer(b),
        variant_answer: answer(v),
      });
    }
  }
  return out;
}
