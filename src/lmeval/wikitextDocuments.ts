// lm-eval's `wikitext` task from the raw WikiText file: the article split of the
// EleutherAI/wikitext_document_level dataset (lm-eval's tasks/wikitext/wikitext_workaround/
// wikitext_document_level.py, _generate_examples: one `page` per article), the task's
// doc_to_target (tasks/wikitext/preprocess_wikitext.py, wikitext_detokenizer) and the word and
// byte counts its process_results divides by. Hand-written: these are a few lines of Python
// whose exact behaviour (Python's whitespace set, its regex engine) decides the documents.
import { PYTHON_WHITESPACE, pyStrip } from "./pythonText.js";

/** One WikiText article as lm-eval scores it. */
export interface WikitextDocument {
  /** The raw article text, heading line included (the dataset's `page` field). */
  page: string;
  /** The heading, e.g. "Robert Boulter". */
  title: string;
}

/** Python's `\s` (re with str patterns) is str.isspace(), not JavaScript's `\s`. */
const S = `[${PYTHON_WHITESPACE.replace(/[\\\]^-]/g, "\\$&")}]`;

/**
 * Splits the raw WikiText text (e.g. wiki.test.raw) into articles exactly as
 * wikitext_document_level.py does: a line whose heading form (`= = =` → `===`, `= =` → `==`,
 * stripped) starts with "= " and ends with " =" opens a new article; blank pieces before the
 * first heading are dropped; the last article is always kept. Line endings are normalized as
 * Python's text-mode open() does (\r\n and \r become \n).
 */
export function splitWikitextArticles(raw: string): WikitextDocument[] {
  const lines = raw.replace(/\r\n?/g, "\n").split("\n");
  const pages: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    const rline = pyStrip(line.split("= = =").join("===").split("= =").join("=="));
    if (rline.startsWith("= ") && pyStrip(rline).endsWith(" =")) {
      const page = current.join("\n");
      if (pyStrip(page)) pages.push(page);
      current = [];
    }
    current.push(line);
  }
  pages.push(current.join("\n"));
  return pages.map((page) => ({ page, title: articleTitle(page) }));
}

/** The heading of an article: its first line without the surrounding "= … =". */
function articleTitle(page: string): string {
  const first = pyStrip(page.split("\n").find((l) => pyStrip(l) !== "") ?? "");
  return pyStrip(first.replace(/^=+/, "").replace(/=+$/, ""));
}

const replaceAll = (s: string, from: string, to: string): string => s.split(from).join(to);

/** lm-eval's wikitext_detokenizer: the text the model scores (doc_to_target). */
export function wikitextDetokenize(page: string): string {
  let s = page;
  s = replaceAll(s, "s '", "s'");
  s = s.replace(/\/' [0-9]\//g, "/'[0-9]/"); // sic: lm-eval's pattern inserts the literal "[0-9]"
  s = replaceAll(s, " @-@ ", "-");
  s = replaceAll(s, " @,@ ", ",");
  s = replaceAll(s, " @.@ ", ".");
  for (const p of [":", ";", ".", "!", "?", ","]) s = replaceAll(s, ` ${p} `, `${p} `);
  s = s.replace(new RegExp(`\\(${S}*([^\\)]*?)${S}*\\)`, "g"), "($1)");
  s = s.replace(new RegExp(`\\[${S}*([^\\]]*?)${S}*\\]`, "g"), "[$1]");
  s = s.replace(new RegExp(`\\{${S}*([^}]*?)${S}*\\}`, "g"), "{$1}");
  s = s.replace(new RegExp(`"${S}*([^"]*?)${S}*"`, "g"), '"$1"');
  s = s.replace(new RegExp(`'${S}*([^']*?)${S}*'`, "g"), "'$1'");
  s = replaceAll(s, "= = = =", "====");
  s = replaceAll(s, "= = =", "===");
  s = replaceAll(s, "= =", "==");
  s = replaceAll(s, " \u00b0 ", "\u00b0");
  s = replaceAll(s, " \n", "\n");
  s = replaceAll(s, "\n ", "\n");
  s = replaceAll(s, " N ", " 1 ");
  s = replaceAll(s, " 's", "'s");
  return s;
}

/**
 * The denominators of lm-eval's wikitext metrics, counted on the page before detokenization:
 * words = `len(re.split(r"\s+", page))`, bytes = UTF-8 length. word_perplexity is
 * exp(−Σll / Σwords), byte_perplexity exp(−Σll / Σbytes), bits_per_byte −Σll / Σbytes / ln 2.
 */
export function wikitextCounts(page: string): { words: number; bytes: number } {
  return { words: page.split(new RegExp(`${S}+`)).length, bytes: Buffer.byteLength(page, "utf8") };
}

/** The raw file as the rows of EleutherAI/wikitext_document_level (`{page}` per article), for the rolling task's data loader. */
export function wikitextRows(raw: string): Array<{ page: string }> {
  return splitWikitextArticles(raw).map(({ page }) => ({ page }));
}
