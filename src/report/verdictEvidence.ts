// What each measure says about one variant, by the rule its metric registers
// (src/metrics/metricInfo.ts): a loss, a bound that rules out a loss, or neither.
//
// - Accuracy: a significant drop (exact McNemar for accuracies, bootstrap CI for F1, beyond the
//   noise floor; set by src/run/significance.ts) is a loss. No significant drop supports "no
//   loss" only on an informative task (baseline above chance, not one class): an uninformative
//   task shows no loss for any variant, so it never clears one.
// - Distribution drift: the 95% CI of the PPL ratio and of the KLD against a stated tolerance
//   (and the KLD also against the noise floor). A CI wholly beyond it is a loss; wholly within,
//   it rules a loss out; straddling, it is inconclusive. A KLD measured from a server's top-k
//   log-probs is approximate (it leaves out the tail mass): it can show a loss, never clear one.
// - Generation drift: the paired-bootstrap CI of every measure metricInfo marks `bootstrap_ci`
//   (Δ token F1 / ROUGE-L, their Δ typo degradation, Δ embedding cosine distance to the reference,
//   judge win rate, Δ fact retention; src/tasks/generate/pairedDrift.ts). A significant move in
//   the worse direction is a loss; none does not clear a variant (no tolerance says how much
//   generation change is acceptable). Distances to the baseline are judged against the noise floor
//   in the tables but never count here: a changed output is not a worse one.
import { metricInfo, TEST_LABEL } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";

/** One piece of evidence about a variant. */
export interface Evidence {
  /** loss: shows a loss; ok: rules one out; open: cannot tell. */
  says: "loss" | "ok" | "open";
  /** e.g. "perplexity KLD 0.226 [0.219, 0.233] > 0.01". */
  text: string;
}

type Cmp = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
export const signed = (v: number, d = 3): string => `${v >= 0 ? "+" : ""}${v.toFixed(d)}`;
const Z95 = 1.959963984540054;

/** Facts about one accuracy task that decide whether it can clear a variant. */
export interface TaskFacts {
  metrics: string[];
  /** null when the run predates the check (results.json without `extra.baseline_check`). */
  informative: boolean | null;
  reasons: string[];
}

/** Accuracy evidence of one variant on one task, for every accuracy metric compared. */
export function accuracyEvidence(task: string, facts: TaskFacts, perMetric: Record<string, Cmp>): Evidence[] {
  const out: Evidence[] = [];
  let anyOpen = false;
  for (const metric of facts.metrics) {
    const c = perMetric[metric];
    const delta = num(c?.delta);
    if (!c || delta === null) continue;
    const test = metricInfo(metric)?.test ?? "bootstrap_ci";
    const p = num(c.mcnemar_p);
    const stat = `${signed(delta)} [${signed(num(c.ci_low) ?? NaN)}, ${signed(num(c.ci_high) ?? NaN)}]${test === "mcnemar_exact" && p !== null ? `, McNemar p = ${p.toPrecision(2)}` : ""}`;
    if (c.significant === true && delta < 0) out.push({ says: "loss", text: `${task} ${metric} ${stat}` });
    else if (c.change === "inconclusive" && delta < 0) {
      anyOpen = true;
      out.push({ says: "open", text: `${task} ${metric} ${stat} (${TEST_LABEL[test]} and the CI or noise floor disagree)` });
    }
  }
  if (out.length === 0 && !anyOpen && facts.informative !== false) out.push({ says: "ok", text: `${task}: no significant drop` });
  return out;
}

/** Whether any model's KLD on this task came from top-k log-probs (HTTP servers). */
export function kldIsApproximate(results: RunResults, model: string): boolean {
  const lim = (name: string) => ((results.models[name]?.limitations as string[] | undefined) ?? []).some((l) => l.startsWith("KLD"));
  return lim(model) || lim(results.baseline);
}

/** A 95% CI judged against an upper tolerance (for lower-is-better measures). */
function againstTolerance(label: string, value: number, err: number | null, tolerance: number, fmt: (v: number) => string): Evidence {
  const lo = err !== null ? value - Z95 * err : value;
  const hi = err !== null ? value + Z95 * err : value;
  const ci = `${fmt(value)} [${fmt(lo)}, ${fmt(hi)}]`;
  if (lo > tolerance) return { says: "loss", text: `${label} ${ci} > ${fmt(tolerance)}` };
  if (hi <= tolerance) return { says: "ok", text: `${label} ${ci} ≤ ${fmt(tolerance)}` };
  return { says: "open", text: `${label} ${ci} straddles ${fmt(tolerance)}` };
}

/** Distribution-drift evidence of one variant: the PPL ratio and the KLD, each against its tolerance. */
export function driftEvidence(task: string, c: Cmp, approximate: boolean): Evidence[] {
  const out: Evidence[] = [];
  const ratio = num(c.ppl_ratio);
  const pplTol = metricInfo("ppl_ratio")!.tolerance!;
  if (ratio !== null) out.push(againstTolerance(`${task} PPL ratio`, ratio, num(c.ppl_ratio_err), pplTol, (v) => v.toFixed(4)));
  const kld = num(c.kld_mean);
  if (kld !== null) {
    // Beyond the noise floor as well: a KLD the baseline shows against itself is no loss.
    const floor = num(c.noise_floor_kld) ?? 0;
    const tol = Math.max(metricInfo("kld_mean")!.tolerance!, floor);
    const e = againstTolerance(`${task} KLD${approximate ? " (approximate, top-k)" : ""}`, kld, num(c.kld_err), tol, (v) => v.toPrecision(3));
    // An approximate KLD leaves out the tail: it can show a loss but cannot rule one out.
    if (!(approximate && e.says === "ok")) out.push(e);
  }
  return out;
}

/** What each paired generation measure is compared against (reference metrics: the references). */
const PAIRED_AGAINST: Record<string, string> = {
  judge_win_rate: "vs an even split",
  fact_retention_delta: "vs the baseline's facts",
  token_f1_degradation_delta: "vs the baseline's typo degradation",
  rougeL_degradation_delta: "vs the baseline's typo degradation",
};

/** Generation-drift evidence of one variant: significant drops of its paired measures (`paired`: reference metrics, judge win rate, fact retention). */
export function generationEvidence(task: string, c: Cmp): Evidence[] {
  const paired = c.paired as Record<string, Cmp> | undefined;
  const out: Evidence[] = [];
  for (const [metric, p] of Object.entries(paired ?? {})) {
    const delta = num(p.delta);
    // A loss is a move in the worse direction (a higher distance to the reference; a lower score).
    const higherIsBetter = (metricInfo(metric) ?? metricInfo(`${metric}_delta`))?.higher_is_better ?? true;
    if (p.test !== "bootstrap_ci" || p.significant !== true || delta === null || (higherIsBetter ? delta >= 0 : delta <= 0)) continue;
    out.push({
      says: "loss",
      text: `${task} ${metric} ${signed(delta)} [${signed(num(p.ci_low) ?? NaN)}, ${signed(num(p.ci_high) ?? NaN)}] (${TEST_LABEL.bootstrap_ci}, ${PAIRED_AGAINST[metric] ?? "vs references"})`,
    });
  }
  return out;
}
