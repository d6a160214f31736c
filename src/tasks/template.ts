// Prompt templates for task YAML: `{{field}}` substitution plus ordered derive rules.
// Hand-written on purpose: lm-eval's Jinja templates in the tasks we ship only substitute
// fields; everything lm-eval does in Python helpers is expressed as explicit `derive` ops, so
// prompt whitespace stays visible in the YAML instead of hiding in code.
import { QuantevalError } from "../util/errors.js";

export type Doc = Record<string, unknown>;

export type DeriveOp =
  | "strip"
  | "capitalize"
  | "lower"
  | { replace: [string, string] }
  | { regex: [string, string] }
  | { map: Record<string, string> };

export interface DeriveRule {
  /** A field name or a `{{…}}` template to start from. */
  from: string;
  ops?: DeriveOp[];
}

function fieldValue(doc: Doc, name: string, where: string): unknown {
  if (!(name in doc)) throw new QuantevalError(`${where}: field '${name}' missing from the row; check the dataset or the task's templates`);
  return doc[name];
}

/** Renders `{{ name }}` placeholders from the document. */
export function render(tmpl: string, doc: Doc, where: string): string {
  return tmpl.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => {
    const v = fieldValue(doc, name, where);
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}

/** Applies ops in order (Python str semantics: strip() trims whitespace, capitalize() upper-cases the first char and lowers the rest). */
export function applyOps(value: string, ops: DeriveOp[] | undefined, where: string): string {
  let s = value;
  for (const op of ops ?? []) {
    if (op === "strip") s = s.trim();
    else if (op === "lower") s = s.toLowerCase();
    else if (op === "capitalize") s = s.length ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s;
    else if ("replace" in op) s = s.split(op.replace[0]).join(op.replace[1]);
    else if ("regex" in op) s = s.replace(new RegExp(op.regex[0], "g"), op.regex[1]);
    else if ("map" in op) {
      if (!(s in op.map)) throw new QuantevalError(`${where}: value '${s}' has no entry in the task's map (known: ${Object.keys(op.map).join(", ")})`);
      s = op.map[s];
    }
  }
  return s;
}

function sourceValue(doc: Doc, from: string, where: string): unknown {
  return from.includes("{{") ? render(from, doc, where) : fieldValue(doc, from, where);
}

/** Adds derived fields to a copy of the document. */
export function derive(doc: Doc, rules: Record<string, DeriveRule> | undefined, where: string): Doc {
  if (!rules) return doc;
  const out: Doc = { ...doc };
  for (const [name, rule] of Object.entries(rules)) {
    const v = sourceValue(out, rule.from, where);
    out[name] = Array.isArray(v) ? v.map((x) => applyOps(String(x), rule.ops, where)) : applyOps(String(v), rule.ops, where);
  }
  return out;
}
