// Renders a Table to the terminal with cli-table3; colours only on a TTY.
import Table3 from "cli-table3";
import pc from "picocolors";
import type { Table } from "../report/tables.js";

export function printTable(t: Table, stream: NodeJS.WriteStream = process.stdout): void {
  if (t.rows.length === 0) return;
  const color = Boolean(stream.isTTY) && !process.env.NO_COLOR;
  const table = new Table3({ head: t.head, style: { head: color ? ["cyan"] : [], border: color ? ["grey"] : [] } });
  for (const r of t.rows) table.push(r);
  stream.write(`${color ? pc.bold(t.title) : t.title}\n${table.toString()}\n`);
}
