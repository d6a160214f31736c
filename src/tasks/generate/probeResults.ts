// Domain-fact probes of a generate task: fact retention per model, facts lost and gained per
// variant, and the side-by-side answers.
import type { GenerateResult } from "../../backends/backend.js";
import { pairedRatioDeltas } from "../../compare/ratioBootstrap.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { factFound, factLabel, type Probe } from "./probes.js";
import { mean } from "./textMetrics.js";

/**
 * Adds fact retention to `results` and the fact deltas to `comparisons`, with the paired CI of
 * Δ fact retention in `comparisons[v].paired` (bootstrap over probes: a probe's facts stay
 * together); returns the report's probe table.
 */
export function probeResults(
  probes: Probe[],
  probesPath: string | undefined,
  answers: Map<string, GenerateResult[]>,
  names: { models: string[]; baseline: string; variants: string[] },
  results: TaskOutcome["results"],
  comparisons: TaskOutcome["comparisons"],
  paired: { seed: number; resamples: number; noiseFloor?: string },
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
  const base = found.get(names.baseline)!;
  const units = new Map(
    names.variants.map((v) => {
      const vf = found.get(v)!;
      return [v, { num: vf.map((f, k) => f.filter(Boolean).length - base[k].filter(Boolean).length), den: vf.map((f) => f.length) }];
    }),
  );
  for (const [v, p] of Object.entries(pairedRatioDeltas(units, 0, paired))) comparisons[v].paired = { ...(comparisons[v].paired as object | undefined), fact_retention_delta: p };
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
