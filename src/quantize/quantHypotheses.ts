// Hypotheses about quantization choices, counted as win rates over the task × type grid of a
// run (as the MiniGPT-4 study counted its AutoGPTQ calibration hypotheses over datasets × models):
//   Q1 calibration helps at all: T@c beats T (no imatrix), for every type T and calibration c;
//   Q2 more chunks help: T@c-n beats T@c-m for the same set c and n > m;
//   Q3 set A beats set B: T@A-n beats T@B-n at the same type and chunk count.
// A cell is one task metric for one such pair: KLD against the baseline for perplexity tasks
// (lower wins), the primary accuracy metric's delta for multiple-choice tasks (higher wins).
// Pure: it reads a run's task outcomes and the variants' metadata, nothing else.

/** What a swept variant is: its type and calibration (null: made without an imatrix). */
export interface VariantQuantMeta {
  name: string;
  type: string;
  calibration: string | null;
  chunks: number | null;
}

export interface QuantHypothesisCell {
  task: string;
  metric: string;
  /** The variant expected to win, and the one it is compared with. */
  a: string;
  b: string;
  a_value: number;
  b_value: number;
  outcome: "win" | "loss" | "tie";
}

export interface QuantHypothesisRow {
  id: "Q1" | "Q2" | "Q3";
  hypothesis: string;
  win: number;
  loss: number;
  tie: number;
  /** Cells evaluated (the denominator of win_rate). */
  cells: number;
  win_rate: number | null;
  /** Set when every cell ties: the data cannot tell the two sides apart. */
  trivial?: string;
  detail: QuantHypothesisCell[];
}

type TaskLike = { type: string; comparisons: Record<string, unknown> };

/** Per task: metric name, direction, and the value of a variant (undefined when absent). */
function taskMetric(task: TaskLike): { metric: string; higherWins: boolean; value: (variant: string) => number | undefined } | undefined {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  if (task.type === "perplexity") {
    return { metric: "kld_mean", higherWins: false, value: (v) => num((task.comparisons[v] as Record<string, unknown> | undefined)?.kld_mean) };
  }
  if (task.type === "multiple_choice") {
    const first = Object.values(task.comparisons)[0] as Record<string, unknown> | undefined;
    const names = first ? Object.keys(first) : [];
    const metric = names.includes("acc") ? "acc" : names[0];
    if (!metric) return undefined;
    return {
      metric: `${metric} delta`,
      higherWins: true,
      value: (v) => num((task.comparisons[v] as Record<string, Record<string, unknown>> | undefined)?.[metric]?.delta),
    };
  }
  return undefined;
}

/** Pairs (a expected to win, b) of each hypothesis from the variants' metadata. */
function pairs(variants: VariantQuantMeta[]): Record<QuantHypothesisRow["id"], Array<[VariantQuantMeta, VariantQuantMeta]>> {
  const out: Record<QuantHypothesisRow["id"], Array<[VariantQuantMeta, VariantQuantMeta]>> = { Q1: [], Q2: [], Q3: [] };
  for (const a of variants) {
    for (const b of variants) {
      if (a === b || a.type !== b.type || a.calibration === null) continue;
      if (b.calibration === null) out.Q1.push([a, b]);
      else if (a.calibration === b.calibration && (a.chunks ?? 0) > (b.chunks ?? 0)) out.Q2.push([a, b]);
      else if (a.calibration < b.calibration && a.chunks === b.chunks) out.Q3.push([a, b]);
    }
  }
  return out;
}

const CLAIMS: Record<QuantHypothesisRow["id"], string> = {
  Q1: "an imatrix beats none at the same type",
  Q2: "more calibration chunks beat fewer (same set, same type)",
  Q3: "calibration set A beats set B (same type, same chunks)",
};

/**
 * Evaluates Q1–Q3 over every task with a comparable metric. Rows without any cell (the sweep
 * has no such pair) are left out.
 */
export function quantHypotheses(tasks: Record<string, TaskLike>, variants: VariantQuantMeta[]): QuantHypothesisRow[] {
  const rows: QuantHypothesisRow[] = [];
  const byId = pairs(variants);
  for (const id of ["Q1", "Q2", "Q3"] as const) {
    const detail: QuantHypothesisCell[] = [];
    for (const [task, t] of Object.entries(tasks)) {
      const m = taskMetric(t);
      if (!m) continue;
      for (const [a, b] of byId[id]) {
        const av = m.value(a.name);
        const bv = m.value(b.name);
        if (av === undefined || bv === undefined) continue;
        const outcome = av === bv ? "tie" : av > bv === m.higherWins ? "win" : "loss";
        detail.push({ task, metric: m.metric, a: a.name, b: b.name, a_value: av, b_value: bv, outcome });
      }
    }
    if (detail.length === 0) continue;
    const count = (o: QuantHypothesisCell["outcome"]) => detail.filter((d) => d.outcome === o).length;
    const row: QuantHypothesisRow = {
      id,
      hypothesis: id === "Q3" ? `${CLAIMS.Q3} (A before B by name)` : CLAIMS[id],
      win: count("win"),
      loss: count("loss"),
      tie: count("tie"),
      cells: detail.length,
      win_rate: count("win") / detail.length,
      detail,
    };
    if (row.tie === row.cells) row.trivial = "every cell ties: the two sides give identical results here (e.g. the type ignores the imatrix)";
    rows.push(row);
  }
  return rows;
}

/** One line per hypothesis, e.g. `Q1 an imatrix beats none at the same type: 3/4 cells (75%), 1 loss`. */
export function formatQuantHypotheses(rows: QuantHypothesisRow[]): string[] {
  return rows.map(
    (r) =>
      `${r.id} ${r.hypothesis}: ${r.win}/${r.cells} cells${r.win_rate !== null ? ` (${(r.win_rate * 100).toFixed(0)}%)` : ""}, ${r.loss} loss, ${r.tie} tie${r.trivial ? ` — trivial: ${r.trivial}` : ""}`,
  );
}
