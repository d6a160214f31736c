// Formatted tables of the report (strings ready to show), shared by the HTML page and the
// Markdown export. Row classes tell the page which rows to colour.
import { APPROX_MARK, metricInfo } from "../metrics/metricInfo.js";
import type { RunResults } from "../run/runEvaluation.js";
import type { Table } from "./tables.js";
import { type ComparisonRecord, type FrontierPoint, KLD_PERCENTILES, type KldPercentile } from "./reportData.js";
import { isObj } from "./resultFields.js";

/** A table with an optional CSS class per row ("worse", "better", "noise"). */
export interface StyledTable extends Table {
  rowClasses?: string[];
}

/** The direction of a record's metric, from metricInfo (records name the KLD "kld"). */
const higherIsBetter = (metric: string): boolean => metricInfo(metric === "kld" ? "kld_mean" : metric)?.higher_is_better ?? true;

/** A number in a short readable form: fixed for ordinary values, 3 significant digits for tiny ones. */
export function fmtNum(v: number | null | undefined, opts: { signed?: boolean; digits?: number } = {}): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const digits = opts.digits ?? 4;
  const abs = Math.abs(v);
  const s = abs !== 0 && abs < 10 ** -(digits - 1) ? v.toPrecision(3) : v.toFixed(digits);
  return opts.signed && v > 0 ? `+${s}` : s;
}

function fmtBytes(b: unknown): string {
  if (typeof b !== "number") return "–";
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  return `${(b / 1e3).toFixed(1)} kB`;
}

/** Whether a significant delta made the variant worse or better (by the metric's direction). */
export function direction(r: ComparisonRecord): "worse" | "better" | "" {
  if (!r.significant || r.delta === null || r.delta === 0) return "";
  const worse = higherIsBetter(r.metric) ? r.delta < 0 : r.delta > 0;
  return worse ? "worse" : "better";
}

/** Variant × task comparison: Δ with 95% CI, recovery, p, flips and significance against the noise floor. */
export function summaryTable(records: ComparisonRecord[]): StyledTable {
  const rows = records.map((r) => [
    r.task,
    r.metric,
    r.is_noise_floor ? `${r.variant} (noise floor)` : r.variant,
    fmtNum(r.baseline),
    fmtNum(r.value),
    r.delta === null ? "–" : `${r.approximate ? APPROX_MARK : ""}${fmtNum(r.delta, { signed: true })} [${fmtNum(r.ci_low, { signed: true })}, ${fmtNum(r.ci_high, { signed: true })}]`,
    r.recovery_pct === null ? "–" : `${r.recovery_pct.toFixed(1)}%`,
    r.p_value === null ? "–" : r.p_value.toFixed(3),
    r.test,
    r.flips_correct_to_wrong === null ? "–" : `${r.flips_correct_to_wrong} / ${r.flips_wrong_to_correct}`,
    r.noise_floor === null ? "–" : fmtNum(r.noise_floor),
    r.significant === null ? r.note || "–" : r.significant ? `yes (${direction(r)})` : `no: ${r.note}`,
  ]);
  return {
    title: "Against the baseline",
    head: ["task", "metric", "variant", "baseline", "variant value", "Δ [95% CI]", "recovery", "p (McNemar)", "decided by", "flips c→w / w→c", "noise floor", "significant"],
    rows,
    rowClasses: records.map((r) => (r.is_noise_floor ? "noise" : direction(r))),
  };
}

/** Models with their size, speed and identity. */
export function modelsTable(r: RunResults): StyledTable {
  const names = [r.baseline, ...r.variants, ...(r.noise_floor ? [r.noise_floor] : [])];
  const n = (v: unknown, d = 0) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(d) : "–");
  return {
    title: "Models",
    head: ["model", "role", "quantization", "file size", "params", "bits/weight", "load ms", "prefill tok/s", "decode tok/s", "peak RSS", "sha256"],
    rows: names.map((m) => {
      const d = (r.models[m] ?? {}) as Record<string, unknown>;
      return [
        m,
        m === r.baseline ? "baseline" : m === r.noise_floor ? "noise floor" : "variant",
        typeof d.quantization === "string" ? d.quantization : "–",
        fmtBytes(d.file_bytes),
        typeof d.params === "number" ? `${(d.params / 1e6).toFixed(3)}M` : "–",
        n(d.bits_per_weight, 2),
        n(d.load_ms, 0),
        n(d.prefill_tps, 0),
        n(d.decode_tps, 0),
        fmtBytes(d.peak_rss_bytes),
        typeof d.sha256 === "string" ? d.sha256.slice(0, 12) : "–",
      ];
    }),
  };
}

/** KLD percentiles as a table: variant × percentile. */
export function kldTable(values: KldPercentile[]): StyledTable {
  const keys = [...new Set(values.map((v) => `${v.task}\u0000${v.variant}`))];
  return {
    title: "KL divergence percentiles",
    head: ["task", "variant", ...KLD_PERCENTILES.map(([, l]) => l)],
    rows: keys.map((k) => {
      const [task, variant] = k.split("\u0000");
      const cell = (l: string) => {
        const v = values.find((x) => x.task === task && x.variant === variant && x.percentile === l);
        return v ? `${v.approximate ? APPROX_MARK : ""}${fmtNum(v.kld, { digits: 4 })}` : "–";
      };
      return [task, variant, ...KLD_PERCENTILES.map(([, l]) => cell(l))];
    }),
  };
}

/** Size, speed and quality loss per model, with Pareto membership. */
export function frontierTable(points: FrontierPoint[]): StyledTable {
  return {
    title: "Quality–size–speed frontier",
    head: ["model", "bits/weight", "file MB", "decode tok/s min / median / max", "KLD mean", "mean Δacc", "Pareto (size vs KLD)", "Pareto (size vs Δacc)"],
    rows: points.map((p) => [
      p.label,
      fmtNum(p.bits_per_weight, { digits: 2 }),
      fmtNum(p.file_mb, { digits: 3 }),
      p.decode_tps_min !== null ? [p.decode_tps_min, p.decode_tps, p.decode_tps_max].map((v) => fmtNum(v, { digits: 0 })).join(" / ") : fmtNum(p.decode_tps, { digits: 0 }),
      p.kld_mean === null ? "–" : `${p.kld_approximate ? APPROX_MARK : ""}${fmtNum(p.kld_mean)}`,
      p.acc_delta === null ? "–" : fmtNum(p.acc_delta, { signed: true }),
      p.kld_mean === null ? "–" : p.kld_approximate ? "not ranked (approximate)" : p.pareto_kld ? "yes" : "no",
      p.acc_delta === null ? "–" : p.pareto_acc ? "yes" : "no",
    ]),
  };
}

/** Headline facts of the reproducibility manifest as key/value rows. */
export function manifestTable(r: RunResults): StyledTable {
  const m = r.manifest as Record<string, unknown>;
  const hw = (m.hardware ?? {}) as Record<string, unknown>;
  const rows: string[][] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== "") rows.push([k, typeof v === "object" ? JSON.stringify(v) : String(v)]);
  };
  add("created", r.created);
  for (const k of ["quanteval", "node_llama_cpp", "llama_cpp_release", "config_sha256", "seed", "limit_override"]) add(k, m[k]);
  for (const k of ["cpu", "cores", "memory_bytes", "gpu", "os", "node"]) add(`hardware.${k}`, hw[k]);
  add("requests", `${r.requests.computed} computed, ${r.requests.cached} from cache`);
  return { title: "Reproducibility manifest", head: ["key", "value"], rows };
}

const MAX_EXTRA_ROWS = 200;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : fmtNum(v);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/**
 * Tables a task type left in `extra` (generate: per-embedder drift, hypotheses, judge rows,
 * probe answers): every list of records, at the top level or one level down.
 */
export function extraTables(r: RunResults): StyledTable[] {
  const out: StyledTable[] = [];
  const add = (title: string, list: unknown[]) => {
    const rows = list.filter(isObj).slice(0, MAX_EXTRA_ROWS);
    if (rows.length === 0) return;
    const head = [...new Set(rows.flatMap((x) => Object.keys(x)))];
    out.push({ title: list.length > rows.length ? `${title} (first ${rows.length} of ${list.length})` : title, head, rows: rows.map((x) => head.map((h) => cell(x[h]))) });
  };
  for (const [task, t] of Object.entries(r.tasks)) {
    for (const [key, v] of Object.entries(t.extra ?? {})) {
      if (Array.isArray(v)) add(`${task} · ${key}`, v);
      else if (isObj(v)) for (const [k2, v2] of Object.entries(v)) if (Array.isArray(v2)) add(`${task} · ${key} · ${k2}`, v2);
    }
  }
  return out;
}
