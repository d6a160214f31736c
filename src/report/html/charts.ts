// Vega-Lite specifications of the report's charts, built from the report data. The page
// hands each one to vega-embed; nothing here draws.
import { APPROX_MARK, isAccuracyMetric } from "../../metrics/metricInfo.js";
import type { RunResults } from "../../run/runEvaluation.js";
import type { DriftValue } from "../generationRecords.js";
import { type ComparisonRecord, type FrontierPoint, KLD_PERCENTILES, type KldPercentile, paretoFlags } from "../reportData.js";
import { comparedModels } from "../resultFields.js";

/** A titled chart: its anchor id, a one-line explanation and the Vega-Lite spec. */
export interface ChartSpec {
  id: string;
  title: string;
  caption: string;
  spec: Record<string, unknown>;
}

const WIDTH = 620;

// Vega's default categorical palette (tableau10), assigned by model so a model keeps its
// colour in every chart, whichever models a chart shows.
const PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];

function colorScale(shown: string[], all: string[]): { domain: string[]; range: string[] } {
  return { domain: shown, range: shown.map((m) => PALETTE[Math.max(0, all.indexOf(m)) % PALETTE.length]) };
}

/**
 * Forest plot: each variant's Δ against the baseline with its 95% CI, per accuracy metric
 * (metricInfo). One unit on the axis: perplexity-like deltas (word perplexity +18.8 next to an
 * accuracy's ±0.05) would squash every accuracy interval into a dot.
 */
export function forestChart(records: ComparisonRecord[], variantOrder: string[], colorDomain: string[] = variantOrder): ChartSpec | null {
  const rows = records
    .filter((r) => isAccuracyMetric(r.metric) && r.delta !== null)
    .map((r) => ({
      row: `${r.task} · ${r.metric}`,
      variant: r.variant,
      delta: r.delta,
      ci_low: r.ci_low ?? r.delta,
      ci_high: r.ci_high ?? r.delta,
      significance: r.significant ? "significant" : "not significant",
      test: r.test,
      note: r.note,
    }));
  if (rows.length === 0) return null;
  // The x domain spans every CI and 0, at least ±0.05 (5% of the items): when no variant changed an
  // answer every interval is [0, 0], and a zero-width domain would draw one tick and no scale.
  const lo = Math.min(0, ...rows.map((r) => r.ci_low as number));
  const hi = Math.max(0, ...rows.map((r) => r.ci_high as number));
  const pad = Math.max(0, 0.1 - (hi - lo)) / 2;
  const x = { type: "quantitative", scale: { domain: [lo - pad, hi + pad], nice: true }, axis: { format: "+.2f" } };
  const y = { field: "row", type: "nominal", title: null, sort: null, axis: { labelLimit: 260 } };
  const yOffset = { field: "variant", sort: variantOrder };
  const shown = variantOrder.filter((v) => rows.some((r) => r.variant === v));
  const color = { field: "variant", type: "nominal", sort: variantOrder, title: "variant", scale: colorScale(shown, colorDomain) };
  return {
    id: "forest",
    title: "Δ against the baseline (forest plot)",
    caption:
      "Each point is a variant's change in an accuracy metric (a fraction of the items); the line is its paired-bootstrap 95% CI. Filled points are significant by the metric's test (exact McNemar for accuracies, the bootstrap CI for F1) and beyond the noise floor.",
    spec: {
      width: WIDTH - 180,
      // The step is per variant within a row (the yOffset band): a row is 18 px per variant.
      height: { step: 18 },
      data: { values: rows },
      layer: [
        // One zero line (its own one-row data: the chart's rows would draw one per comparison).
        { data: { values: [{}] }, mark: { type: "rule", strokeDash: [4, 4], color: "#888" }, encoding: { x: { datum: 0, type: "quantitative" } } },
        { mark: { type: "rule", strokeWidth: 2 }, encoding: { y, yOffset, color, x: { ...x, field: "ci_low", title: "Δ accuracy vs baseline (95% CI)" }, x2: { field: "ci_high" } } },
        {
          mark: { type: "point", size: 70, strokeWidth: 2, filled: true },
          encoding: {
            y,
            yOffset,
            color,
            stroke: color,
            x: { ...x, field: "delta" },
            fillOpacity: { condition: { test: "datum.significance === 'significant'", value: 1 }, value: 0 },
            tooltip: [
              { field: "row", title: "task · metric" },
              { field: "variant" },
              { field: "delta", format: "+.4f", title: "Δ" },
              { field: "ci_low", format: "+.4f", title: "CI low" },
              { field: "ci_high", format: "+.4f", title: "CI high" },
              { field: "significance" },
              { field: "test", title: "decided by" },
              { field: "note" },
            ],
          },
        },
      ],
    },
  };
}

/** KLD percentile bars per variant, one chart per perplexity task, on a log axis. */
export function kldCharts(values: KldPercentile[], variantOrder: string[], colorDomain: string[] = variantOrder): ChartSpec[] {
  const tasks = [...new Set(values.map((v) => v.task))];
  return tasks.flatMap((task, i) => {
    const rows = values.filter((v) => v.task === task && v.kld > 0);
    if (rows.length === 0) return [];
    // Bars on a log axis need a positive base: the decade below the smallest value.
    const floor = 10 ** Math.floor(Math.log10(Math.min(...rows.map((v) => v.kld))));
    const approx = [...new Set(rows.filter((v) => v.approximate).map((v) => v.variant))];
    return {
      id: `kld-${i}`,
      title: `KL divergence percentiles · ${task}${approx.length ? ` (${APPROX_MARK} approximate: ${approx.join(", ")})` : ""}`,
      caption:
        "Per-token KL divergence of each variant's next-token distribution from the baseline's, at each percentile (log scale). The tail (99%, 99.9%, max) is where quantization damage shows first.",
      spec: {
        width: WIDTH,
        height: 260,
        data: { values: rows },
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "percentile", type: "ordinal", sort: KLD_PERCENTILES.map(([, l]) => l), title: "percentile", axis: { labelAngle: 0 } },
          xOffset: { field: "variant", sort: variantOrder },
          y: { field: "kld", type: "quantitative", scale: { type: "log", domainMin: floor }, title: "KL divergence (nats, log scale)" },
          y2: { datum: floor },
          color: {
            field: "variant",
            type: "nominal",
            sort: variantOrder,
            scale: colorScale(
              variantOrder.filter((v) => rows.some((r) => r.variant === v)),
              colorDomain,
            ),
          },
          tooltip: [{ field: "variant" }, { field: "percentile" }, { field: "kld", format: ".3e", title: "KLD" }],
        },
      },
    };
  });
}

type Axis = { field: keyof FrontierPoint; title: string; higherIsBetter: boolean };

function frontierChart(id: string, title: string, caption: string, points: FrontierPoint[], x: Axis, y: Axis, withSpeedSize: boolean, colorDomain: string[]): ChartSpec | null {
  const pts = points.filter((p) => typeof p[x.field] === "number" && typeof p[y.field] === "number");
  if (pts.length < 2) return null;
  // Pareto on (x, y): x is minimised unless higherIsBetter, y likewise.
  // An approximate KLD (top-k log-probs) is shown, marked, but never ranked against exact ones.
  const unranked = (p: FrontierPoint) => p.kld_approximate && (x.field === "kld_mean" || y.field === "kld_mean");
  const flags = paretoFlags(
    pts.map((p) => (unranked(p) ? { x: null, y: null } : { x: (x.higherIsBetter ? -1 : 1) * (p[x.field] as number), y: (y.higherIsBetter ? -1 : 1) * (p[y.field] as number) })),
    false,
  );
  const data = pts.map((p, i) => ({
    ...p,
    label: unranked(p) ? `${p.label} (${APPROX_MARK} approximate KLD)` : p.label,
    x: p[x.field],
    y: p[y.field],
    pareto: flags[i],
    role: p.is_baseline ? "baseline" : "variant",
  }));
  // Speed on the x axis: a rule from the slowest to the fastest repetition shows the spread.
  const spread =
    x.field === "decode_tps" && data.some((d) => d.decode_tps_min !== null)
      ? [
          {
            mark: { type: "rule", strokeWidth: 2, opacity: 0.6 },
            encoding: {
              x: { field: "decode_tps_min", type: "quantitative" },
              x2: { field: "decode_tps_max" },
              y: { field: "y", type: "quantitative" },
              color: { field: "model", type: "nominal", sort: colorDomain, legend: null },
            },
          },
        ]
      : [];
  const positives = data.map((d) => d.y as number).filter((v) => v > 0);
  const xEnc = { field: "x", type: "quantitative", title: x.title, scale: { zero: false, padding: 30 } };
  let yEnc: Record<string, unknown> = { field: "y", type: "quantitative", title: y.title, scale: { zero: false, padding: 20 } };
  if (y.field === "kld_mean" && positives.length) {
    // KLD spans orders of magnitude and the baseline sits at 0: a symmetric log scale shows
    // both, with ticks at 0 and at each decade.
    const lo = Math.floor(Math.log10(Math.min(...positives)));
    const hi = Math.ceil(Math.log10(Math.max(...positives)));
    const ticks = [0, ...Array.from({ length: hi - lo + 1 }, (_, k) => 10 ** (lo + k))];
    yEnc = { ...yEnc, scale: { type: "symlog", constant: 10 ** lo / 2, domain: [0, 10 ** hi] }, axis: { values: ticks, format: "~g" } };
  }
  return {
    id,
    title,
    caption,
    spec: {
      width: WIDTH - 80,
      height: 320,
      data: { values: data },
      layer: [
        ...spread,
        { transform: [{ filter: "datum.pareto" }], mark: { type: "line", color: "#999", strokeDash: [6, 3] }, encoding: { x: xEnc, y: yEnc, order: { field: "x", type: "quantitative" } } },
        {
          mark: { type: "point", filled: true, opacity: 0.9 },
          encoding: {
            x: xEnc,
            y: yEnc,
            color: {
              field: "model",
              type: "nominal",
              title: "model",
              sort: colorDomain,
              scale: colorScale(
                colorDomain.filter((m) => data.some((d) => d.model === m)),
                colorDomain,
              ),
            },
            shape: { field: "role", type: "nominal", title: null, scale: { domain: ["baseline", "variant"], range: ["diamond", "circle"] } },
            size: withSpeedSize ? { field: "decode_tps", type: "quantitative", title: "decode tok/s", scale: { range: [60, 400] } } : { value: 110 },
            tooltip: [
              { field: "label", title: "model" },
              { field: "bits_per_weight", format: ".2f", title: "bits/weight" },
              { field: "file_mb", format: ".3f", title: "file MB" },
              { field: "kld_mean", format: ".4g", title: "KLD mean" },
              { field: "acc_delta", format: "+.4f", title: "mean Δacc" },
              { field: "prefill_tps", format: ".0f", title: "prefill tok/s" },
              { field: "decode_tps", format: ".0f", title: "decode tok/s (median)" },
              { field: "decode_tps_min", format: ".0f", title: "decode tok/s min" },
              { field: "decode_tps_max", format: ".0f", title: "decode tok/s max" },
              { field: "pareto", title: "on the Pareto frontier" },
            ],
          },
        },
        { mark: { type: "text", dy: -12, fontSize: 11 }, encoding: { x: xEnc, y: yEnc, text: { field: "label" } } },
      ],
    },
  };
}

/** The quality–size(–speed) frontier: size against KLD and against accuracy Δ; speed when measured. */
export function frontierCharts(points: FrontierPoint[], colorDomain: string[] = points.map((p) => p.model)): ChartSpec[] {
  const hasBpw = points.every((p) => p.bits_per_weight !== null);
  const size: Axis = hasBpw ? { field: "bits_per_weight", title: "bits per weight", higherIsBetter: false } : { field: "file_mb", title: "file size (MB)", higherIsBetter: false };
  const speed = points.some((p) => p.decode_tps !== null);
  const kld: Axis = { field: "kld_mean", title: "mean KLD vs baseline (lower is better)", higherIsBetter: false };
  const acc: Axis = { field: "acc_delta", title: "mean Δ accuracy vs baseline", higherIsBetter: true };
  const note = "The dashed line joins the Pareto frontier: no other model is both smaller and better.";
  const out = [
    frontierChart("frontier-kld", `Quality–size frontier: ${size.title} vs KLD`, `${note}${speed ? " Point size is decode tokens/s." : ""}`, points, size, kld, speed, colorDomain),
    frontierChart(
      "frontier-acc",
      `Quality–size frontier: ${size.title} vs accuracy Δ`,
      `${note} Accuracy Δ is the mean over the accuracy tasks (never a perplexity Δ).`,
      points,
      size,
      acc,
      speed,
      colorDomain,
    ),
  ];
  if (speed) {
    const tps: Axis = { field: "decode_tps", title: "decode tokens/s", higherIsBetter: true };
    out.push(
      frontierChart(
        "frontier-speed",
        "Quality–speed frontier: decode tokens/s vs KLD",
        "The dashed line joins the models no other model beats on both speed and KLD. Each point is the median over the timed repetitions; its line spans the slowest to the fastest.",
        points,
        tps,
        kld,
        false,
        colorDomain,
      ),
    );
  }
  return out.filter((c): c is ChartSpec => c !== null);
}

/** Generation-drift bars (embedding distances, win rates…), one chart per generate task. */
export function driftCharts(values: DriftValue[], colorDomain: string[]): ChartSpec[] {
  const tasks = [...new Set(values.map((v) => v.task))];
  return tasks.map((task, i) => ({
    id: `drift-${i}`,
    title: `Generation drift · ${task}`,
    caption:
      "How far each variant's generations move from the baseline's outputs and from the references (embedding L1 and cosine distances, lower is closer), with length ratio, metric deltas, judge win rate and fact retention where measured. The baseline's own distance to the references is shown for comparison.",
    spec: {
      data: { values: values.filter((v) => v.task === task) },
      facet: { field: "metric", type: "nominal", title: null, sort: [...new Set(values.filter((v) => v.task === task).map((v) => v.metric))] },
      columns: 3,
      spec: {
        width: 170,
        height: 130,
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "variant", type: "nominal", sort: colorDomain, title: null, axis: { labelAngle: -30 } },
          y: { field: "value", type: "quantitative", title: null },
          color: {
            field: "variant",
            type: "nominal",
            sort: colorDomain,
            legend: null,
            scale: colorScale(
              colorDomain.filter((v) => values.some((d) => d.task === task && d.variant === v)),
              colorDomain,
            ),
          },
          tooltip: [{ field: "variant" }, { field: "metric" }, { field: "value", format: ".4g" }],
        },
      },
      resolve: { scale: { y: "independent" } },
    },
  }));
}

/** Every chart of the report, in page order. */
export function allCharts(r: RunResults, data: { records: ComparisonRecord[]; kld: KldPercentile[]; frontier: FrontierPoint[]; drift: DriftValue[] }): ChartSpec[] {
  const order = comparedModels(r);
  // One colour per model across every chart.
  const colors = [r.baseline, ...order];
  return [forestChart(data.records, order, colors), ...kldCharts(data.kld, order, colors), ...frontierCharts(data.frontier, colors), ...driftCharts(data.drift, colors)].filter(
    (c): c is ChartSpec => c !== null,
  );
}
