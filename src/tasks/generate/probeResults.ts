// Domain-fact probes of a generate task: fact retention per model, facts lost and gained per
// variant, and the side-by-side answers.
import type { GenerateResult } from "../../backends/backend.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { factFound, factLabel, type Probe } from "./probes.js";
import { mean } from "./textMetrics.js";

/** Adds fact retention to `results` and the fact deltas to `comparisons`; returns the report's probe table. */
export function probeResults(
  probes: Probe[],
  probesPath: string | undefined,
  answers: Map<string, GenerateResult[]>,
  names: { models: string[]; baseline: string; variants: string[] },
  results: TaskOutcome["results"],
  comparisons: TaskOutcome["comparisons"],
): Record<string, unknown> {
  const found = new Map<string, boolean[][]>();
  for (const m of names.models) {
    const a = answers.get(m)!;
    const f = probes.map((p, k) => p.facts.map((fact) => factFound(a[k].text, fact)));
    found.set(m, f);
    const flat = f.flat();
    Object.assign(results[m], { fact_retention: mean(flat.map((x) => (x ? 1 : 0))), probe_facts_found: flat.filter(Boolean).length, probe_facts_total: flat.length });
  }
  for (const v of names.variants) {
    const bf = found.get(names.baseline)!.flat();
    const vf = found.get(v)!.flat();
    comparisons[v] = {
      ...comparisons[v],
      fact_retention_delta: (results[v].fact_retention as number) - (results[names.baseline].fact_retention as number),
      facts_lost: bf.filter((b, i) => b && !vf[i]).length,
      facts_gained: bf.filter((b, i) => !b && vf[i]).length,
    };
  }
  return {
    file: probesPath,
    retention: Object.fromEntries(names.models.map((m) => [m, results[m].fact_retention])),
    questions: probes.map((p, k) => ({
      id: p.id ?? String(k),
      question: p.question,
      facts: p.facts.map(factLabel),
      answers: Object.fromEntries(names.models.map((m) => [m, { text: answers.get(m)![k].text, found: found.get(m)![k] }])),
    })),
  };
}
