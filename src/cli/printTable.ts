// Renders a Table to the terminal with cli-table3, fitted to the terminal's width (COLUMNS, else
// the stream's columns, at most 120): the widest columns shrink and their cells wrap. Colours
// only on a TTY. No separator lines between rows, so a table costs one line per row.
import Table3 from "cli-table3";
import pc from "picocolors";
import type { Table } from "../report/tables.js";

/** The default and widest width: a terminal wider than this still gets 120-column output. */
export const MAX_WIDTH = 120;

/** The width to fit: COLUMNS when set (narrower terminals), else the stream's, capped at 120. */
export function outputWidth(stream: { columns?: number } = process.stdout): number {
  const env = Number(process.env.COLUMNS);
  const w = Number.isInteger(env) && env > 0 ? env : (stream.columns ?? MAX_WIDTH);
  return Math.max(40, Math.min(MAX_WIDTH, w));
}

const len = (s: string) => Math.max(...s.split("\n").map((l) => [...l].length));

/** The narrowest a column gets (with its 1+1 padding), unless its longest word needs more (up to 16). */
const MIN_COLUMN = 8;
const MAX_WORD = 16;

/**
 * Column widths (with cli-table3's 1+1 padding) whose sum plus borders fits `width`, or null
 * when none can without cutting words: the caller then prints one block per row instead.
 */
export function fitColumns(t: Table, width: number): number[] | null {
  const cells = (i: number) => [t.head[i], ...t.rows.map((r) => r[i] ?? "")];
  const widths = t.head.map((_, i) => Math.max(...cells(i).map(len)) + 2);
  const words = (i: number) =>
    Math.max(
      ...cells(i)
        .flatMap((c) => c.split(/\s+/))
        .map((w) => [...w].length),
    );
  const mins = widths.map((w, i) => Math.min(w, Math.max(MIN_COLUMN, Math.min(MAX_WORD, words(i) + 2))));
  const total = () => widths.reduce((a, b) => a + b, 0) + widths.length + 1;
  // Shrink the column with the most room above its minimum, one character at a time.
  while (total() > width) {
    const slack = widths.map((w, i) => w - mins[i]);
    const i = slack.indexOf(Math.max(...slack));
    if (slack[i] <= 0) return null;
    widths[i]--;
  }
  return widths;
}

/** A table too wide for the terminal as one block per row: "column: value" lines. */
function asRecords(t: Table, width: number): string {
  return t.rows.map((r) => r.map((cell, i) => wrapText(`${t.head[i]}: ${cell.replace(/\n/g, " ")}`, width)).join("\n")).join("\n\n");
}

/**
 * Wraps plain text at word boundaries to `width` columns. Hand-written: a dozen lines, where
 * wrap-ansi would add a direct dependency for text that holds no escape codes.
 */
export function wrapText(text: string, width: number): string {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && [...line].length + 1 + [...word].length > width) {
      out.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join("\n");
}

export function printTable(t: Table, stream: NodeJS.WriteStream = process.stdout): void {
  if (t.rows.length === 0) return;
  const color = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  const width = outputWidth(stream);
  const title = wrapText(t.title, width);
  const colWidths = fitColumns(t, width);
  if (!colWidths) {
    stream.write(`${color ? pc.bold(title) : title}\n${asRecords(t, width)}\n\n`);
    return;
  }
  const table = new Table3({
    head: t.head,
    colWidths,
    wordWrap: true,
    wrapOnWordBoundary: true,
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    style: { head: color ? ["cyan"] : [], border: color ? ["grey"] : [] },
  });
  for (const r of t.rows) table.push(r);
  stream.write(`${color ? pc.bold(title) : title}\n${table.toString()}\n`);
}

/** Prints lines of text wrapped to the output width. */
export function printLines(lines: string[], stream: NodeJS.WriteStream = process.stdout): void {
  const width = outputWidth(stream);
  for (const l of lines) stream.write(`${wrapText(l, width)}\n`);
}
