// The catalogue's promise, as an assertion: a non-zero exit and ONE error line (starting
// "quanteval:") that mentions what the case names, with no stack trace.
import assert from "node:assert/strict";

export function expectOneLineError(r: { status: number | null; stderr: string }, ...mustContain: Array<string | RegExp>): string {
  assert.notEqual(r.status, 0, `expected a non-zero exit, stderr: ${r.stderr}`);
  // Status lines ("loaded …") may precede it; the error itself is one line starting "quanteval:".
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("quanteval:") || /error/i.test(l));
  assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
  assert.ok(!/^\s+at /m.test(r.stderr), "no stack trace");
  for (const m of mustContain) assert.ok(typeof m === "string" ? lines[0].includes(m) : m.test(lines[0]), `error line should mention ${m}: ${lines[0]}`);
  return lines[0];
}
