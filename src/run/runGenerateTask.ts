// The `generate` task type: generation drift of each variant against the baseline, measured
// with reference metrics, diversity, embedding distances, an LLM judge, hypotheses over the
// dataset × model grid, typo robustness and domain-fact probes.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Backend, GenerateRequest, GenerateResult } from "../backends/backend.js";
import { resolveLocalPath } from "../data/resolveDataset.js";
import { openBackend } from "../backends/openBackend.js";
import type { Embedder } from "../embedders/embedder.js";
import { resolveModel } from "../models/resolveModel.js";
import { applyTypos, typoSeed } from "../perturb/typos.js";
import { loadGenerateItems, type GenerateItem } from "../tasks/generate/dataset.js";
import { DISTANCE_KEYS, EmbeddingTable, sampleDistances, summarizeDistances, type SampleDistances } from "../tasks/generate/embeddingDrift.js";
import { evaluateHypotheses, type CellValue } from "../tasks/generate/hypotheses.js";
import { DEFAULT_JUDGE_PROMPT, judgePairs, summarizeJudgments, type PairJudgment } from "../tasks/generate/judge.js";
import { openEmbedders } from "../tasks/generate/openEmbedders.js";
import { factFound, factLabel, loadProbes, type Probe } from "../tasks/generate/probes.js";
import { parseGenerateSpec, type GenerateTaskSpec } from "../tasks/generate/spec.js";
import { aggregateGenerations, mean, referenceScores } from "../tasks/generate/textMetrics.js";
import { render } from "../tasks/template.js";
import { QuantevalError } from "../util/errors.js";
import { mixSeed } from "../util/rng.js";
import type { SampleRow, TaskOutcome, TaskRunContext } from "./taskContext.js";

/** Metrics whose change under typo noise is reported as degradation (perturbed − clean). */
const DEGRADATION_METRICS = ["token_f1", "rouge1", "rougeL", "exact_match_quasi", "mean_length", "embed_l1_to_reference", "embed_cos_to_reference", "embed_l1_to_baseline", "embed_cos_to_baseline"];
/** Reference metrics whose variant − baseline difference is reported per variant. */
const DELTA_METRICS = ["token_f1", "rouge1", "rougeL", "exact_match_quasi", "mean_length", "distinct_2"];

type Chatty = Backend & { applyChatTemplate?: (t: string) => string };

/** One model's generations: clean prompts, perturbed prompts, probe questions. */
interface ModelOutputs {
  clean: GenerateResult[];
  perturbed: GenerateResult[];
  probes: GenerateResult[];
}

function generationRequest(spec: GenerateTaskSpec, prompt: string, seed: number): GenerateRequest {
  const stop = spec.stop === undefined ? undefined : Array.isArray(spec.stop) ? spec.stop : [spec.stop];
  return {
    prompt,
    maxTokens: spec.max_tokens,
    ...(stop?.length ? { stop } : {}),
    // Greedy requests carry no seed, so their cache keys do not change with the run seed.
    ...(spec.temperature > 0 ? { temperature: spec.temperature, topP: spec.top_p, seed } : {}),
    ...(spec.chat ? { chat: true } : {}),
  };
}

async function promptTokens(m: Backend, prompt: string, chat: boolean): Promise<number> {
  const c = m as Chatty;
  const text = chat && c.applyChatTemplate ? c.applyChatTemplate(prompt) : prompt;
  return (await m.tokenize(text, true)).length;
}

async function openJudge(ctx: TaskRunContext, spec: GenerateTaskSpec, models: Backend[], where: string): Promise<{ judge: Backend; owned: boolean } | undefined> {
  if (!spec.judge) return undefined;
  const m = spec.judge.model;
  if (typeof m === "string") {
    const found = models.find((b) => b.name === m);
    if (!found) throw new QuantevalError(`${where}: judge.model '${m}' is not a model of this run (models: ${models.map((b) => b.name).join(", ")}); name one, or give a model spec {name, model} or {name, base_url}`);
    if (!found.capabilities.generate) throw new QuantevalError(`${where}: judge.model '${m}' cannot generate; choose a generating model`);
    return { judge: found, owned: false };
  }
  const isHttp = m.backend === "http" || (!m.backend && m.base_url !== undefined);
  const path = isHttp ? undefined : await resolveModel(m.model ?? "", { baseDir: ctx.baseDir, field: `${where}: judge.model.model` });
  const judge = await openBackend(m, path);
  try {
    await judge.describe();
    if (!judge.capabilities.generate) throw new QuantevalError(`${where}: judge model '${m.name}' cannot generate; choose a generating model`);
  } catch (e) {
    await judge.dispose().catch(() => undefined);
    throw e;
  }
  return { judge, owned: true };
}

/** Runs a generate task on the baseline and every variant; see the file comment. */
export async function runGenerateTask(ctx: TaskRunContext): Promise<TaskOutcome> {
  const spec = parseGenerateSpec(ctx.spec, ctx.name);
  const where = `task '${ctx.name}'`;
  const models = [ctx.baseline, ...ctx.variants];
  const baseName = ctx.baseline.name;
  for (const m of models) {
    if (!m.capabilities.generate) throw new QuantevalError(`${where}: model '${m.name}' (${m.kind} backend) cannot generate text; remove it from this run or use a generating backend`);
  }
  const seed = spec.seed ?? ctx.seed;
  if (spec.hypotheses && !spec.embedders) throw new QuantevalError(`${where}: 'hypotheses' are stated over embedding distances; add 'embedders' (e.g. [{kind: model2vec, path: …}])`);

  // Prompts: the first `limit` rows per dataset that leave room for max_tokens in every model.
  const fits = async (prompt: string) => {
    for (const m of models) if ((await promptTokens(m, prompt, spec.chat)) + spec.max_tokens > m.contextLength()) return false;
    return true;
  };
  const data = spec.data === undefined ? [] : Array.isArray(spec.data) ? spec.data : [spec.data];
  const { items, datasets } = data.length
    ? await loadGenerateItems(data, { taskName: ctx.name, baseDir: ctx.baseDir, dataDir: ctx.dataDir, split: spec.split, input: spec.input, reference: spec.reference, limit: ctx.limit ?? spec.limit, fits })
    : { items: [] as GenerateItem[], datasets: [] };
  const skipped = datasets.reduce((s, d) => s + d.skipped_too_long, 0);
  if (skipped > 0) ctx.warn(`${where}: ${skipped} prompt(s) passed over because prompt + max_tokens (${spec.max_tokens}) exceeds a model's context; raise the models' n_ctx to include them`);
  const references = items.map((it) => it.reference);
  const perturbSeed = spec.perturb?.seed ?? seed;
  const perturbed = spec.perturb ? items.map((it) => applyTypos(it.prompt, spec.perturb!.typos, typoSeed(perturbSeed, it.doc_id))) : [];

  // Probes.
  let probes: Probe[] = [];
  let probesPath: string | undefined;
  if (spec.probes) {
    probesPath = resolveLocalPath(spec.probes, ctx.baseDir);
    if (!probesPath) throw new QuantevalError(`${where}: probes file '${spec.probes}' not found (relative to ${ctx.baseDir} or the working directory)`);
    probes = loadProbes(probesPath);
  }
  const probePrompts = probes.map((p, k) => render(spec.probe_prompt ?? "{{question}}", { question: p.question }, `${where}: probe_prompt (probe ${k})`));
  for (const [k, p] of probePrompts.entries()) {
    if (!(await fits(p))) throw new QuantevalError(`${probesPath}: entry [${k}]: the question does not fit a model's context with max_tokens ${spec.max_tokens}; shorten it or raise n_ctx`);
  }

  // Generation, cached per request by model fingerprint: a resumed run never regenerates.
  const requests: GenerateRequest[] = [
    ...items.map((it) => generationRequest(spec, it.prompt, mixSeed(seed, it.doc_id))),
    ...perturbed.map((p, i) => generationRequest(spec, p, mixSeed(seed, items[i].doc_id))),
    ...probePrompts.map((p, k) => generationRequest(spec, p, mixSeed(seed, -1 - k))),
  ];
  const outputs = new Map<string, ModelOutputs>();
  for (const m of models) {
    const id = `${ctx.name}:${m.name}`;
    ctx.progress.start(id, `${ctx.name} · ${m.name}`, requests.length);
    const res = await ctx.store.cached<GenerateRequest, GenerateResult>(m.fingerprint(), "generate", requests, (missing) => m.generate(missing), {
      batchSize: 64,
      onProgress: (done) => ctx.progress.update(id, done),
    });
    ctx.progress.stop(id);
    const n = items.length;
    outputs.set(m.name, { clean: res.slice(0, n), perturbed: res.slice(n, n + perturbed.length), probes: res.slice(n + perturbed.length) });
  }
  const base = outputs.get(baseName)!;

  // Embedding distances, per embedder.
  const embedders: Embedder[] = spec.embedders ? await openEmbedders(spec.embedders, ctx.baseDir, ctx.name) : [];
  let judgeHandle: { judge: Backend; owned: boolean } | undefined;
  try {
    // dist.get(embedder id).get(model) = per-sample distances (clean, perturbed).
    const dist = new Map<string, Map<string, { clean: SampleDistances[]; perturbed: SampleDistances[]; selfShift: SampleDistances[] }>>();
    for (const e of embedders) {
      const table = new EmbeddingTable(e);
      const texts: string[] = references.filter((r): r is string => r !== undefined);
      for (const o of outputs.values()) for (const g of [...o.clean, ...o.perturbed]) texts.push(g.text);
      await table.add(texts);
      const perModel = new Map<string, { clean: SampleDistances[]; perturbed: SampleDistances[]; selfShift: SampleDistances[] }>();
      for (const m of models) {
        const o = outputs.get(m.name)!;
        const clean = sampleDistances(table, o.clean.map((g) => g.text), base.clean.map((g) => g.text), references);
        const pert = spec.perturb ? sampleDistances(table, o.perturbed.map((g) => g.text), base.perturbed.map((g) => g.text), references) : [];
        // How far typos moved this model's own output (clean output as the "baseline").
        const selfShift = spec.perturb ? sampleDistances(table, o.perturbed.map((g) => g.text), o.clean.map((g) => g.text), []) : [];
        perModel.set(m.name, { clean, perturbed: pert, selfShift });
      }
      dist.set(e.id, perModel);
    }
    const firstId = embedders[0]?.id;
    const embedSummary = (model: string, which: "clean" | "perturbed") => {
      const perEmb: Record<string, Record<string, number>> = {};
      for (const [id, per] of dist) perEmb[id] = summarizeDistances(per.get(model)![which]);
      return { flat: firstId ? perEmb[firstId] : {}, perEmb };
    };

    // Per-model results.
    const results: TaskOutcome["results"] = {};
    const comparisons: TaskOutcome["comparisons"] = {};
    for (const m of models) {
      const o = outputs.get(m.name)!;
      const r: Record<string, unknown> = {};
      if (items.length) {
        const e = embedSummary(m.name, "clean");
        Object.assign(r, aggregateGenerations(o.clean, base.clean, references), e.flat);
        if (firstId) Object.assign(r, { embedder: firstId, embedders: e.perEmb });
        if (spec.perturb) {
          const pe = embedSummary(m.name, "perturbed");
          const p: Record<string, number> = { ...aggregateGenerations(o.perturbed, base.perturbed, references), ...pe.flat };
          if (firstId) {
            const shift = summarizeDistances(dist.get(firstId)!.get(m.name)!.selfShift);
            p.embed_l1_clean_to_perturbed = shift.embed_l1_to_baseline;
            p.embed_cos_clean_to_perturbed = shift.embed_cos_to_baseline;
          }
          r.perturbed = p;
          const deg: Record<string, number> = {};
          for (const k of DEGRADATION_METRICS) if (typeof r[k] === "number" && typeof p[k] === "number") deg[k] = p[k] - (r[k] as number);
          r.degradation = deg;
        }
      }
      results[m.name] = r;
    }

    // Probes: fact retention per model, and the side-by-side answers.
    let probesExtra: Record<string, unknown> | undefined;
    if (probes.length) {
      const found = new Map<string, boolean[][]>();
      for (const m of models) {
        const answers = outputs.get(m.name)!.probes;
        const f = probes.map((p, k) => p.facts.map((fact) => factFound(answers[k].text, fact)));
        found.set(m.name, f);
        const flat = f.flat();
        Object.assign(results[m.name], { fact_retention: mean(flat.map((x) => (x ? 1 : 0))), probe_facts_found: flat.filter(Boolean).length, probe_facts_total: flat.length });
      }
      probesExtra = {
        file: probesPath,
        retention: Object.fromEntries(models.map((m) => [m.name, results[m.name].fact_retention])),
        questions: probes.map((p, k) => ({
          id: p.id ?? String(k),
          question: p.question,
          facts: p.facts.map(factLabel),
          answers: Object.fromEntries(models.map((m) => [m.name, { text: outputs.get(m.name)!.probes[k].text, found: found.get(m.name)![k] }])),
        })),
      };
      for (const v of ctx.variants) {
        const bf = found.get(baseName)!.flat();
        const vf = found.get(v.name)!.flat();
        comparisons[v.name] = {
          ...comparisons[v.name],
          fact_retention_delta: (results[v.name].fact_retention as number) - (results[baseName].fact_retention as number),
          facts_lost: bf.filter((b, i) => b && !vf[i]).length,
          facts_gained: bf.filter((b, i) => !b && vf[i]).length,
        };
      }
    }

    // Per-variant comparisons: embedding drift (first embedder flattened), metric deltas.
    for (const v of ctx.variants) {
      const c: Record<string, unknown> = { ...comparisons[v.name] };
      if (items.length) {
        const e = embedSummary(v.name, "clean");
        if (firstId) Object.assign(c, { embedder: firstId }, e.flat, { embedders: e.perEmb });
        const rv = results[v.name];
        const rb = results[baseName];
        for (const k of DELTA_METRICS) if (typeof rv[k] === "number") c[`${k}_delta`] = (rv[k] as number) - (rb[k] as number);
        c.identical_to_baseline = rv.identical_to_baseline;
        c.length_ratio_to_baseline = rv.length_ratio_to_baseline;
        if (spec.perturb) {
          const pe = embedSummary(v.name, "perturbed");
          c.perturbed = { ...pe.flat };
          const dv = rv.degradation as Record<string, number>;
          const db = rb.degradation as Record<string, number>;
          c.degradation_vs_baseline = Object.fromEntries(Object.keys(dv).filter((k) => k in db).map((k) => [k, dv[k] - db[k]]));
        }
      }
      comparisons[v.name] = c;
    }

    // Judge A/B, both orders, per variant.
    const judgments = new Map<string, PairJudgment[]>();
    let judgeExtra: Record<string, unknown> | undefined;
    if (spec.judge && items.length) {
      judgeHandle = await openJudge(ctx, spec, models, where);
      const judge = judgeHandle!.judge;
      const template = spec.judge.prompt ?? DEFAULT_JUDGE_PROMPT;
      const rows: Array<Record<string, unknown>> = [];
      for (const v of ctx.variants) {
        const id = `${ctx.name}:judge:${v.name}`;
        ctx.progress.start(id, `${ctx.name} · judge ${v.name}`, 2 * items.length);
        const pairs = await judgePairs({
          judge,
          store: ctx.store,
          docIds: items.map((it) => it.doc_id),
          questions: items.map((it) => it.prompt),
          baseline: base.clean.map((g) => g.text),
          variant: outputs.get(v.name)!.clean.map((g) => g.text),
          template,
          maxTokens: spec.judge.max_tokens,
          chat: spec.judge.chat,
          where: `${where}: judge.prompt`,
          onProgress: (d) => ctx.progress.update(id, d),
        });
        ctx.progress.stop(id);
        judgments.set(v.name, pairs);
        const s = summarizeJudgments(pairs, judge.name);
        Object.assign(comparisons[v.name], { judge: s, judge_win_rate: s.win_rate, judge_score: s.score });
        rows.push({ variant: v.name, ...s });
      }
      judgeExtra = { judge: judge.name, prompt_sha256: createHash("sha256").update(template).digest("hex"), rows };
    }

    // Hypotheses over dataset × model cells.
    let hypotheses: unknown;
    if (spec.hypotheses) {
      const cells: CellValue[] = [];
      const labels = datasets.map((d) => d.label);
      for (const [metric, per] of dist) {
        for (const m of models) {
          const rows = per.get(m.name)!.clean;
          for (const label of labels) {
            const sub = rows.filter((_, i) => items[i].dataset === label);
            const s = summarizeDistances(sub);
            for (const k of DISTANCE_KEYS) {
              if (!(`embed_${k}` in s)) continue;
              const [distance, , target] = k.split("_") as ["l1" | "cos", string, "baseline" | "reference"];
              cells.push({ dataset: label, model: m.name, metric, distance, target, mean: s[`embed_${k}`], median: s[`embed_${k}_median`] });
            }
          }
        }
      }
      hypotheses = evaluateHypotheses(spec.hypotheses, cells, { baseline: baseName, variants: ctx.variants.map((v) => v.name).filter((n) => n !== ctx.noiseFloorName), selfModel: ctx.noiseFloorName }, where);
    }

    // Samples.
    const samples: TaskOutcome["samples"] = {};
    for (const m of models) {
      const o = outputs.get(m.name)!;
      samples[m.name] = items.map((it, i): SampleRow => {
        const g = o.clean[i];
        const row: SampleRow = { doc_id: it.doc_id, dataset: it.dataset, row: it.row, prompt: it.prompt, reference: it.reference ?? null, output: g.text, finish_reason: g.finishReason, n_tokens: g.nTokens };
        if (it.reference !== undefined) Object.assign(row, referenceScores(g.text, it.reference));
        if (firstId) for (const k of DISTANCE_KEYS) row[`embed_${k}`] = dist.get(firstId)!.get(m.name)!.clean[i][k];
        if (embedders.length > 1) row.embeddings = Object.fromEntries([...dist].map(([id, per]) => [id, per.get(m.name)!.clean[i]]));
        if (spec.perturb) {
          const p = o.perturbed[i];
          Object.assign(row, { perturbed_prompt: perturbed[i], perturbed_output: p.text, perturbed_finish_reason: p.finishReason, perturbed_n_tokens: p.nTokens });
          if (firstId) for (const k of DISTANCE_KEYS) row[`perturbed_embed_${k}`] = dist.get(firstId)!.get(m.name)!.perturbed[i][k];
        }
        const j = judgments.get(m.name)?.[i];
        if (j) row.judge = { baseline_as_a: j.ab, variant_as_a: j.ba };
        return row;
      });
    }

    const drift = ctx.variants.flatMap((v) => [...dist.keys()].map((id) => ({ variant: v.name, embedder: id, ...summarizeDistances(dist.get(id)!.get(v.name)!.clean) })));
    return {
      type: "generate",
      results,
      comparisons,
      samples,
      manifest: {
        datasets: datasets.map(({ label, path, sha256, rows, used, skipped_too_long }) => ({ label, path, sha256, rows, used, skipped_too_long })),
        input: spec.input,
        reference: spec.reference ?? null,
        generation: { max_tokens: spec.max_tokens, stop: spec.stop ?? null, temperature: spec.temperature, top_p: spec.top_p, seed, chat: spec.chat, decoding: spec.temperature > 0 ? "seeded sampling, per-prompt seed mixSeed(seed, doc_id)" : "greedy" },
        perturb: spec.perturb ? { typos: spec.perturb.typos, seed: perturbSeed } : null,
        embedders: embedders.map((e) => e.id),
        judge: judgeHandle ? { model: judgeHandle.judge.name, fingerprint: judgeHandle.judge.fingerprint(), max_tokens: spec.judge!.max_tokens, chat: spec.judge!.chat, prompt_sha256: judgeExtra?.prompt_sha256 } : null,
        probes: probesPath ? { file: probesPath, sha256: createHash("sha256").update(readFileSync(probesPath)).digest("hex"), n: probes.length } : null,
        hypotheses: spec.hypotheses ?? null,
      },
      extra: {
        ...(drift.length ? { drift } : {}),
        ...(hypotheses ? { hypotheses } : {}),
        ...(judgeExtra ? { judge: judgeExtra } : {}),
        ...(probesExtra ? { probes: probesExtra } : {}),
      },
    };
  } finally {
    for (const e of embedders) await e.dispose?.().catch(() => undefined);
    if (judgeHandle?.owned) await judgeHandle.judge.dispose().catch(() => undefined);
  }
}
