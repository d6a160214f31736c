// `quanteval compare RUN_A RUN_B`: the baseline of one run against the baseline of another
// (e.g. yesterday's and today's), refused when their prompts or few-shot examples differ.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { comparePaired } from "../compare/pairedComparison.js";
import { assertSamePrompts } from "../compare/promptIdentity.js";
import { readResults } from "../view/runReader.js";
import { printTable } from "./printTable.js";

interface Sample {
  task: string;
  model: string;
  doc_id: number;
  correct?: boolean;
  pred?: number;
  gold?: number;
}

export function registerCompareCommand(program: Command): void {
  program
    .command("compare")
    .description("compare two runs' baselines item by item (refused if their prompts differ)")
    .argument("<runA>", "a run directory")
    .argument("<runB>", "another run directory")
    .option("--json", "machine-readable output")
    .action((runA: string, runB: string, o: { json?: boolean }) => {
      const checked = assertSamePrompts(runA, runB);
      const load = (dir: string) => {
        const res = readResults(dir);
        const rows = readFileSync(join(dir, "samples.jsonl"), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Sample);
        return rows.filter((s) => s.model === res.baseline && typeof s.correct === "boolean");
      };
      const a = load(runA);
      const b = new Map(load(runB).map((s) => [`${s.task}\u0000${s.doc_id}`, s]));
      const tasks = [...new Set(a.map((s) => s.task))];
      const out = tasks.map((task) => {
        const pairs = a.filter((s) => s.task === task && b.has(`${task}\u0000${s.doc_id}`)).map((s) => [s, b.get(`${task}\u0000${s.doc_id}`)!] as const);
        return { task, ...comparePaired({ metric: "acc", baselineCorrect: pairs.map(([x]) => x.correct!), variantCorrect: pairs.map(([, y]) => y.correct!) }, { seed: 1234 }) };
      });
      if (o.json) return void process.stdout.write(JSON.stringify({ checked, tasks: out }, null, 2) + "\n");
      printTable({
        title: `${runB} against ${runA} (${checked} documents with identical prompts)`,
        head: ["task", "acc A", "acc B", "Δ [95% CI]", "McNemar p", "flips c→w / w→c"],
        rows: out.map((c) => [
          c.task,
          c.baseline.toFixed(4),
          c.variant.toFixed(4),
          `${c.delta.toFixed(4)} [${c.ci_low.toFixed(4)}, ${c.ci_high.toFixed(4)}]`,
          c.mcnemar_p.toFixed(3),
          `${c.flips_correct_to_wrong} / ${c.flips_wrong_to_correct}`,
        ]),
      });
    });
}
