// `quanteval tasks` lists tasks; `quanteval tasks show NAME` prints the YAML and one rendered example.
import type { Command } from "commander";
import { renderExample } from "../tasks/renderExample.js";
import { CODE_TASKS, listTaskNames, loadTask } from "../tasks/taskRegistry.js";
import { printTable } from "./printTable.js";

export function registerTasksCommand(program: Command): void {
  const tasks = program.command("tasks").description("list the built-in tasks").option("--json", "machine-readable output");
  tasks.action((o: { json?: boolean }) => {
    const rows = listTaskNames().map((name) => {
      if (CODE_TASKS[name]) return { name, type: CODE_TASKS[name].type, source: "built in (code)", metrics: CODE_TASKS[name].metrics.join(", "), data: "a text file or <id>:<config>:<split>" };
      const t = loadTask(name, process.cwd()).def;
      return { name, type: t.type, source: t.source ?? "", metrics: t.metrics.join(", "), data: t.dataset ? `${t.dataset.id}${t.dataset.config ? `/${t.dataset.config}` : ""}` : (t.data_file ?? "") };
    });
    if (o.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    printTable({ title: "Tasks", head: ["name", "type", "source", "metrics", "data"], rows: rows.map((r) => [r.name, r.type, r.source, r.metrics, r.data]) });
  });
  tasks
    .command("show")
    .description("print a task's YAML and one rendered example")
    .argument("<name>", "task name or path to a task YAML")
    .action(async (name: string) => {
      if (CODE_TASKS[name]) return void process.stdout.write(`${name}: ${CODE_TASKS[name].description}\n`);
      const t = loadTask(name, process.cwd());
      process.stdout.write(`# ${t.file}\n${t.text}\n`);
      const lines = await renderExample(t, { baseDir: process.cwd() });
      process.stdout.write(`--- example (doc 0)\n${lines.join("\n")}\n`);
    });
}
