// Prompt templates for task YAML: `{{field}}` substitution plus ordered derive rules.
// Hand-written on purpose: lm-eval's Jinja templates in the tasks we ship only substitute
// fields; everything lm-eval does in Python helpers is expressed as explicit `derive` ops, so
// prompt whitespace stays visible in the YAML instead of hiding in code.
import { pyCapitalize, pyStrip } from "../lmeval/pythonText.js";
import { QuantevalError } from "../util/errors.js";

export type Doc = Record<string, unknown>;

/**
 * One string operation. Each mirrors one Python expression used by lm-eval's task helpers:
 * `strip` = str.strip(), `capitalize` = str.capitalize(), `lower` = str.lower(),
 * `lower_first` = s[0].lower() + s[1:], `replace` = str.replace (all occurrences),
 * `regex` = re.sub (JS syntax, `$1` for groups), `map` = a dict lookup,
 * `before`/`after` = s[:s.index(x)] / s[s.index(x)+len(x):] (an error when x is absent),
 * `before_last`/`after_last` = ' '.join(s.split(x)[:-1]) / s.split(x)[-1],
 * `slice` = s[a:b] over code points, `index_of` = the position of the value in a list field.
 */
export type DeriveOp =
  | "strip"
  | "capitalize"
  | "lower"
  | "lower_first"
  | { replace: [string, string] }
  | { regex: [string, string] }
  | { map: Record<string, string> }
  | { before: string }
  | { after: string }
  | { before_last: string }
  | { after_last: string }
  | { slice: [number] | [number, number] }
  | { index_of: string };

export interface DeriveRule {
  /** A field name (dotted for nested fields) or a `{{…}}` template to start from. */
  from: string;
  ops?: DeriveOp[];
}

const own = (o: object, key: string) => Object.hasOwn(o, key);

/**
 * Reads a field, following dots into nested objects (`choices.text`). Only the row's own
 * fields count: `constructor`, `toString` or `__proto__` are JavaScript's, not the dataset's.
 */
export function fieldValue(doc: Doc, name: string, where: string): unknown {
  if (own(doc, name)) return doc[name];
  let v: unknown = doc;
  for (const part of name.split(".")) {
    if (v === null || typeof v !== "object" || !own(v, part)) {
      throw new QuantevalError(`${where}: field '${name}' missing from the row; check the dataset or the task's templates`);
    }
    v = (v as Doc)[part];
  }
  return v;
}

/** Renders `{{ name }}` placeholders from the document. */
export function render(tmpl: string, doc: Doc, where: string): string {
  return tmpl.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => {
    const v = fieldValue(doc, name, where);
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}

/** Python's s[a:b] on code points (negative indices count from the end). */
function pySlice(s: string, a: number, b?: number): string {
  const cps = Array.from(s);
  const n = cps.length;
  const norm = (i: number) => (i < 0 ? Math.max(0, n + i) : Math.min(n, i));
  return cps.slice(norm(a), b === undefined ? n : norm(b)).join("");
}

/** Applies ops in order, with Python's str semantics (strip() over Python's whitespace set, capitalize() title-cases the first character and lowers the rest). */
export function applyOps(value: string, ops: DeriveOp[] | undefined, where: string, doc: Doc = {}): string {
  let s = value;
  for (const op of ops ?? []) {
    if (op === "strip") s = pyStrip(s);
    else if (op === "lower") s = s.toLowerCase();
    else if (op === "capitalize") s = pyCapitalize(s);
    else if (op === "lower_first") {
      const [first = "", ...rest] = Array.from(s);
      s = first.toLowerCase() + rest.join("");
    } else if ("replace" in op) s = s.split(op.replace[0]).join(op.replace[1]);
    else if ("regex" in op) s = s.replace(new RegExp(op.regex[0], "g"), op.regex[1]);
    else if ("map" in op) {
      if (!own(op.map, s)) throw new QuantevalError(`${where}: value '${s}' has no entry in the task's map (known: ${Object.keys(op.map).join(", ")})`);
      s = op.map[s];
    } else if ("before" in op || "after" in op) {
      const sep = "before" in op ? op.before : op.after;
      const i = s.indexOf(sep);
      if (i < 0) throw new QuantevalError(`${where}: '${sep}' not found in '${s.slice(0, 60)}'; the task needs it in every row`);
      s = "before" in op ? s.slice(0, i) : s.slice(i + sep.length);
    } else if ("before_last" in op) {
      const i = s.lastIndexOf(op.before_last);
      s = i < 0 ? "" : s.slice(0, i);
    } else if ("after_last" in op) {
      const i = s.lastIndexOf(op.after_last);
      s = i < 0 ? s : s.slice(i + op.after_last.length);
    } else if ("slice" in op) s = pySlice(s, op.slice[0], op.slice[1]);
    else if ("index_of" in op) {
      const list = fieldValue(doc, op.index_of, where);
      if (!Array.isArray(list)) throw new QuantevalError(`${where}: field '${op.index_of}' (index_of) must be a list`);
      const i = list.map(String).indexOf(s);
      if (i < 0) throw new QuantevalError(`${where}: value '${s}' is not in field '${op.index_of}' (${list.join(", ")})`);
      s = String(i);
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
    out[name] = Array.isArray(v) ? v.map((x) => applyOps(String(x), rule.ops, where, out)) : applyOps(String(v), rule.ops, where, out);
  }
  return out;
}
