// `quanteval tasks` lists tasks; `quanteval tasks show NAME` prints the YAML and one rendered example.
import type { Command } from "commander";
import { codeTaskKind, kindOf, listTaskNames } from "../tasks/kinds/registry.js";
import { renderExample } from "../tasks/renderExample.js";
import { printTable } from "./printTable.js";

export function registerTasksCommand(program: Command): void {
  const tasks = program.command("tasks").description("list the built-in tasks").option("--json", "machine-readable output");
  tasks.action((o: { json?: boolean }) => {
    const rows = listTaskNames().map((name) => {
      const { kind, definition } = kindOf(name);
      const d = definition?.def;
      const data = d ? (d.dataset ? `${d.dataset.id}${d.dataset.config ? `/${d.dataset.config}` : ""}` : (d.data_file ?? "")) : kind.dataHint;
      return { name, type: kind.name, source: d ? (d.source ?? "") : "built in (code)", metrics: kind.metrics(definition).join(", "), data };
    });
    if (o.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    printTable({ title: "Tasks", head: ["name", "type", "source", "metrics", "data"], rows: rows.map((r) => [r.name, r.type, r.source, r.metrics, r.data]) });
  });
  tasks
    .command("show")
    .description("print a task's YAML and one rendered example")
    .argument("<name>", "task name or path to a task YAML")
    .action(async (name: string) => {
      const code = codeTaskKind(name);
      if (code) return void process.stdout.write(`${name}: ${code.description}\nmetrics: ${code.metrics().join(", ")}\ndata: ${code.dataHint}\n`);
      const t = kindOf(name).definition!;
      process.stdout.write(`# ${t.file}\n${t.text}\n`);
      const lines = await renderExample(t, {});
      process.stdout.write(`--- example (doc 0)\n${lines.join("\n")}\n`);
    });
}
