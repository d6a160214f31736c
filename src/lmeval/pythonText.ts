// Python's str operations, exactly, for prompts built the way lm-eval's Python/Jinja templates
// build them. Hand-written because JavaScript has no title-case mapping (String#toUpperCase is
// not str.capitalize's first step) and its whitespace class (\s, String#trim) is not Python's
// str.isspace(): JS trims U+FEFF and keeps U+001C–U+001F and U+0085; Python does the opposite.

/**
 * Python's whitespace set (CPython `Py_UNICODE_ISSPACE`, what `str.isspace()`, `str.strip()`
 * and `str.split()` use): bidirectional types WS, B, S and category Zs.
 */
export const PYTHON_WHITESPACE = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

const WS = new Set(PYTHON_WHITESPACE);

/** Python's `c.isspace()` for one character. */
export function isPythonSpace(c: string): boolean {
  return WS.has(c);
}

/** Python's `s.rstrip()` (no argument). Every whitespace character is in the BMP, so code units suffice. */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && WS.has(s[end - 1])) end--;
  return s.slice(0, end);
}

/** Python's `s.lstrip()` (no argument). */
export function pyLstrip(s: string): string {
  let start = 0;
  while (start < s.length && WS.has(s[start])) start++;
  return s.slice(start);
}

/** Python's `s.strip()` (no argument). */
export function pyStrip(s: string): string {
  return pyLstrip(pyRstrip(s));
}

/** Python's `s.split()` (no argument): runs of whitespace separate, empty pieces dropped. */
export function pySplitWhitespace(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (const c of s) {
    if (WS.has(c)) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Title-case mappings that differ from the upper-case mapping (Unicode's titlecase field and
 * SpecialCasing), generated with CPython 3.11 (Unicode 14):
 * `[c for c in map(chr, range(0x110000)) if c.capitalize() != c.upper()]`.
 * Ranges are listed in {@link titleCase}; single code points here.
 */
const TITLE_SPECIAL: Record<string, string> = {
  "\u00df": "Ss",
  "\u01c4": "\u01c5",
  "\u01c5": "\u01c5",
  "\u01c6": "\u01c5",
  "\u01c7": "\u01c8",
  "\u01c8": "\u01c8",
  "\u01c9": "\u01c8",
  "\u01ca": "\u01cb",
  "\u01cb": "\u01cb",
  "\u01cc": "\u01cb",
  "\u01f1": "\u01f2",
  "\u01f2": "\u01f2",
  "\u01f3": "\u01f2",
  "\u0587": "\u0535\u0582",
  "\u1fb2": "\u1fba\u0345",
  "\u1fb3": "\u1fbc",
  "\u1fb4": "\u0386\u0345",
  "\u1fb7": "\u0391\u0342\u0345",
  "\u1fbc": "\u1fbc",
  "\u1fc2": "\u1fca\u0345",
  "\u1fc3": "\u1fcc",
  "\u1fc4": "\u0389\u0345",
  "\u1fc7": "\u0397\u0342\u0345",
  "\u1fcc": "\u1fcc",
  "\u1ff2": "\u1ffa\u0345",
  "\u1ff3": "\u1ffc",
  "\u1ff4": "\u038f\u0345",
  "\u1ff7": "\u03a9\u0342\u0345",
  "\u1ffc": "\u1ffc",
  "\ufb00": "Ff",
  "\ufb01": "Fi",
  "\ufb02": "Fl",
  "\ufb03": "Ffi",
  "\ufb04": "Ffl",
  "\ufb05": "St",
  "\ufb06": "St",
  "\ufb13": "\u0544\u0576",
  "\ufb14": "\u0544\u0565",
  "\ufb15": "\u0544\u056b",
  "\ufb16": "\u054e\u0576",
  "\ufb17": "\u0544\u056d",
};

/** The title-case mapping of one code point (Python's first step of `str.capitalize()`). */
export function titleCase(c: string): string {
  const special = TITLE_SPECIAL[c];
  if (special !== undefined) return special;
  const cp = c.codePointAt(0) ?? 0;
  // Georgian Mkhedruli has upper-case Mtavruli (Unicode 11) but title-cases to itself.
  if ((cp >= 0x10d0 && cp <= 0x10fa) || (cp >= 0x10fd && cp <= 0x10ff)) return c;
  // Greek with ypogegrammeni/prosgegrammeni: lower-case rows title-case to the +8 row; the
  // title-case rows map to themselves (their upper case is two letters, e.g. ᾈ → ἈΙ).
  if (cp >= 0x1f80 && cp <= 0x1faf) return (cp & 0xf) < 8 ? String.fromCodePoint(cp + 8) : c;
  return c.toUpperCase();
}

/**
 * Python's `s.capitalize()` (3.8+): the first character title-cased, the rest lower-cased with
 * the whole string as context (so a final Σ after the first letter becomes ς, as in Python).
 * "ßa" → "Ssa", "ǆa" → "ǅa", "ΑΣ" → "Ας".
 */
export function pyCapitalize(s: string): string {
  if (s === "") return s;
  const first = String.fromCodePoint(s.codePointAt(0)!);
  // toLowerCase maps code point by code point (only Σ looks at its neighbours, and never at
  // the start), so the lowered first character is a prefix of the lowered string.
  return titleCase(first) + s.toLowerCase().slice(first.toLowerCase().length);
}

/**
 * lm-eval's `_encode_pair` text step: trailing whitespace of the context (Python's
 * `len(context) - len(context.rstrip())`) moves to the front of the continuation.
 */
export function movePairWhitespace(context: string, continuation: string): { context: string; continuation: string } {
  const trimmed = pyRstrip(context);
  if (trimmed.length === context.length) return { context, continuation };
  return { context: trimmed, continuation: context.slice(trimmed.length) + continuation };
}
