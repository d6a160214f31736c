// The `generate` kind: generation drift of each variant against the baseline, measured with
// reference metrics, diversity, embedding distances, an LLM judge, hypotheses over the
// dataset × model grid, typo robustness and domain-fact probes. Each model only generates
// (evaluate); every measure is computed from the stored generations (compare).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { GenerateRequest } from "../../backends/backend.js";
import { resolveModelSpec } from "../../config/resolvePaths.js";
import { resolveLocalPath } from "../../data/resolveDataset.js";
import type { Embedder } from "../../embedders/embedder.js";
import { applyTypos, typoSeed } from "../../perturb/typos.js";
import type { TaskOutcome } from "../../run/taskContext.js";
import { QuantevalError } from "../../util/errors.js";
import { mixSeed } from "../../util/rng.js";
import { type GenerateItem, loadGenerateItems, type LoadItemsOptions } from "../generate/dataset.js";
import { computeDistances, type Distances } from "../generate/distances.js";
import { driftComparisons, modelResults } from "../generate/driftResults.js";
import { summarizeDistances } from "../generate/embeddingDrift.js";
import { hypothesisCells, pagedSamples, sampleRows } from "../generate/generateSamples.js";
import { evaluateHypotheses } from "../generate/hypotheses.js";
import { type JudgeHandle, openJudge } from "../generate/judgeModel.js";
import { judgeVariants } from "../generate/judgeVariants.js";
import { openEmbedders } from "../generate/openEmbedders.js";
import { pairedGeneration } from "../generate/pairedDrift.js";
import { addPerDataset } from "../generate/perDataset.js";
import { loadProbes, type Probe } from "../generate/probes.js";
import { probeResults } from "../generate/probeResults.js";
import { PromptSelection } from "../generate/promptSelection.js";
import { generationRequest } from "../generate/requests.js";
import { type GenerateTaskSpec, parseGenerateSpec } from "../generate/spec.js";
import { render } from "../template.js";
import { evaluateGenerations, type GenerateState, type OutputLayout, planGenerationChunks, readOutputs } from "../generate/generationChunks.js";
import { type CompareEnv, evaluateWhole, type PrepareEnv, type PerModelTask, type StoredEvaluations, type TaskKind } from "./taskKind.js";

/** The prompts chosen for the run's models, and the requests every model answers. */
interface Selection {
  items: GenerateItem[];
  datasets: Awaited<ReturnType<typeof loadGenerateItems>>["datasets"];
  perturbed: string[];
  /** Built for each evaluation from the prompts rather than held beside them through the comparison. */
  requests: () => GenerateRequest[];
}

function prepared(spec: GenerateTaskSpec, env: PrepareEnv, probes: Probe[], probesPath: string | undefined, probePrompts: string[]): PerModelTask<GenerateState> {
  const where = `task '${env.name}'`;
  const seed = spec.seed ?? env.seed;
  const data = spec.data === undefined ? [] : Array.isArray(spec.data) ? spec.data : [spec.data];
  const itemOptions = (fits: LoadItemsOptions["fits"]): LoadItemsOptions => ({
    taskName: env.name,
    dataDir: env.dataDir,
    split: spec.split,
    input: spec.input,
    reference: spec.reference,
    limit: env.limit ?? spec.limit,
    fits,
  });
  const perturbSeed = spec.perturb?.seed ?? seed;
  // Prompts: the first `limit` rows per dataset that leave room for max_tokens in every model of
  // the run, whichever schedule group it is in (promptSelection.ts).
  const selection = new PromptSelection<Selection>(
    async (fits) => {
      const { items, datasets } = data.length ? await loadGenerateItems(data, itemOptions(fits)) : { items: [] as GenerateItem[], datasets: [] };
      for (const [k, p] of probePrompts.entries()) {
        if (!(await fits(p))) throw new QuantevalError(`${probesPath}: entry [${k}]: the question does not fit a model's context with max_tokens ${spec.max_tokens}; shorten it or raise n_ctx`);
      }
      const perturbed = spec.perturb ? items.map((it) => applyTypos(it.prompt, spec.perturb!.typos, typoSeed(perturbSeed, it.doc_id))) : [];
      const requests = (): GenerateRequest[] => [
        ...items.map((it) => generationRequest(spec, it.prompt, mixSeed(seed, it.doc_id))),
        ...perturbed.map((p, i) => generationRequest(spec, p, mixSeed(seed, items[i].doc_id))),
        ...probePrompts.map((p, k) => generationRequest(spec, p, mixSeed(seed, -1 - k))),
      ];
      return { value: { items, datasets, perturbed, requests }, key: JSON.stringify(requests()) };
    },
    spec.max_tokens,
    spec.chat,
  );
  const task: PerModelTask<GenerateState> = {
    schedule: "per_model",
    async selectForModels(models) {
      for (const m of models) {
        if (!m.capabilities.generate) throw new QuantevalError(`${where}: model '${m.name}' (${m.kind} backend) cannot generate text; remove it from this run or use a generating backend`);
      }
      if (!(await selection.select(models))) return;
      const skipped = selection.get().datasets.reduce((s, d) => s + d.skipped_too_long, 0);
      if (skipped > 0) env.warn(`${where}: ${skipped} prompt(s) passed over because prompt + max_tokens (${spec.max_tokens}) exceeds a model's context; raise the models' n_ctx to include them`);
    },
    staleModels: () => selection.stale(),
    selectionKey: () => selection.key(),
    // Generation in chunks of requests, each chunk's generations stored as it finishes
    // (generationChunks.ts): a resumed run skips the finished chunks, and every request is also
    // cached by model fingerprint, so nothing is generated twice.
    async evaluateInChunks(m, ev, sink) {
      const sel = selection.get();
      const requests = sel.requests();
      selection.evaluated(m.name);
      await evaluateGenerations(requests, planGenerationChunks(requests), m, ev, sink);
      // Results and samples need the baseline's generations and the embedders: compare makes them.
      const layout: OutputLayout = { clean: sel.items.length, perturbed: sel.perturbed.length, probes: requests.length - sel.items.length - sel.perturbed.length };
      return { results: {}, state: { layout } };
    },
    evaluate(m, ev) {
      return evaluateWhole((sink) => task.evaluateInChunks!(m, ev, sink));
    },
    // A judge that is one of the run's models: the runner opens it again when the schedule released it.
    compareModels: () => (typeof spec.judge?.model === "string" ? [spec.judge.model] : []),
    compare: (stored, cmp) => {
      selection.settle();
      return compareGenerations(spec, selection.get(), { probes, probesPath, seed, perturbSeed }, stored, cmp);
    },
  };
  return task;
}

async function compareGenerations(
  spec: GenerateTaskSpec,
  sel: Selection,
  p: { probes: Probe[]; probesPath?: string; seed: number; perturbSeed: number },
  stored: StoredEvaluations<GenerateState>,
  env: CompareEnv,
): Promise<TaskOutcome> {
  const where = `task '${env.name}'`;
  const { items, datasets } = sel;
  const models = [env.baseline, ...env.variants];
  const base = readOutputs(stored, env.baseline);
  const outputs = new Map(models.map((m) => [m, m === env.baseline ? base : readOutputs(stored, m, base)]));
  const references = items.map((it) => it.reference);
  const embedders: Embedder[] = spec.embedders ? await openEmbedders(spec.embedders, env.name) : [];
  let judgeHandle: JudgeHandle | undefined;
  try {
    const dist: Distances = await computeDistances(embedders, outputs, env.baseline, references, spec.perturb !== undefined);
    const drift = { models, baseline: env.baseline, variants: env.variants, outputs, references, dist, hasItems: items.length > 0, perturb: spec.perturb !== undefined };
    const results = modelResults(drift);
    const comparisons: TaskOutcome["comparisons"] = {};
    const pairedOpts = { seed: p.seed, resamples: env.bootstrap, noiseFloor: env.noiseFloorName };
    const probesExtra = p.probes.length ? probeResults(p.probes, p.probesPath, new Map(models.map((m) => [m, outputs.get(m)!.probes])), drift, results, comparisons, pairedOpts) : undefined;
    driftComparisons(drift, results, comparisons);
    for (const [v, paired] of Object.entries(pairedGeneration(drift, pairedOpts))) comparisons[v] = { ...comparisons[v], paired: { ...(comparisons[v]?.paired as object | undefined), ...paired } };
    addPerDataset(
      drift,
      items,
      datasets.map((d) => d.label),
      pairedOpts,
      results,
      comparisons,
    );
    let judged: Awaited<ReturnType<typeof judgeVariants>> | undefined;
    if (spec.judge && items.length) {
      judgeHandle = await openJudge(spec, env.openModels, where, models);
      judged = await judgeVariants(judgeHandle!, spec, items, outputs, env, comparisons, where);
    }
    const selfModel = env.noiseFloorName;
    const hypotheses = spec.hypotheses
      ? evaluateHypotheses(
          spec.hypotheses,
          hypothesisCells(
            dist,
            models,
            items,
            datasets.map((d) => d.label),
          ),
          { baseline: env.baseline, variants: env.variants.filter((n) => n !== selfModel), selfModel },
          where,
        )
      : undefined;
    // Built page by page as samples.jsonl is written.
    const samples = pagedSamples(models, items.length, (m, from, to) => sampleRows(m, items, outputs.get(m)!, dist, spec.perturb ? sel.perturbed : undefined, judged?.judgments.get(m), from, to));
    const driftRows = env.variants.flatMap((v) => [...dist.keys()].map((id) => ({ variant: v, embedder: id, ...summarizeDistances(dist.get(id)!.get(v)!.clean) })));
    return {
      type: "generate",
      results,
      comparisons,
      samples,
      manifest: {
        datasets: datasets.map(({ label, path, sha256, rows, used, skipped_too_long }) => ({ label, path, sha256, rows, used, skipped_too_long })),
        input: spec.input,
        reference: spec.reference ?? null,
        generation: {
          max_tokens: spec.max_tokens,
          stop: spec.stop ?? null,
          temperature: spec.temperature,
          top_p: spec.top_p,
          seed: p.seed,
          chat: spec.chat,
          decoding: spec.temperature > 0 ? "seeded sampling, per-prompt seed mixSeed(seed, doc_id)" : "greedy",
        },
        perturb: spec.perturb ? { typos: spec.perturb.typos, seed: p.perturbSeed } : null,
        embedders: embedders.map((e) => e.id),
        judge: judgeHandle
          ? { model: judgeHandle.judge.name, fingerprint: judgeHandle.judge.fingerprint(), max_tokens: spec.judge!.max_tokens, chat: spec.judge!.chat, prompt_sha256: judged?.extra.prompt_sha256 }
          : null,
        probes: p.probesPath ? { file: p.probesPath, sha256: createHash("sha256").update(readFileSync(p.probesPath)).digest("hex"), n: p.probes.length } : null,
        hypotheses: spec.hypotheses ?? null,
      },
      extra: {
        ...(driftRows.length ? { drift: driftRows } : {}),
        ...(hypotheses ? { hypotheses } : {}),
        ...(judged ? { judge: judged.extra } : {}),
        ...(probesExtra ? { probes: probesExtra } : {}),
      },
    };
  } finally {
    for (const e of embedders) await e.dispose?.().catch(() => undefined);
    if (judgeHandle?.owned) await judgeHandle.judge.dispose().catch(() => undefined);
  }
}

/** The generate kind (`task: generate`). */
export const generateKind: TaskKind = {
  name: "generate",
  claims: { task: "generate" },
  description: "generation drift against the baseline: reference metrics, diversity, embedding distances, an LLM judge, hypotheses, typo robustness and fact probes",
  metrics: () => ["token_f1", "rouge1", "rougeL", "exact_match_quasi", "distinct_2", "mean_length", "embed_cos_to_baseline", "judge_win_rate", "fact_retention"],
  dataHint: "prompt files (.jsonl/.json/.csv/.tsv/.parquet) or <id>:<config>:<split>, and/or a probes YAML",
  configure(raw, ctx) {
    let parsed: GenerateTaskSpec;
    try {
      parsed = parseGenerateSpec(raw, ctx.name);
    } catch (e) {
      throw e instanceof QuantevalError ? new QuantevalError(`${ctx.file}: ${e.message}`) : e;
    }
    // A judge with a model of its own: its path resolves like the run's models (an HTTP judge's `model` is a server-side name).
    const judgeModel = parsed.judge && typeof parsed.judge.model !== "string" ? { ...parsed.judge, model: resolveModelSpec(parsed.judge.model, ctx.paths) } : parsed.judge;
    const spec: GenerateTaskSpec = {
      ...parsed,
      ...(parsed.data !== undefined ? { data: Array.isArray(parsed.data) ? parsed.data.map((d) => ctx.paths.data(d)) : ctx.paths.data(parsed.data) } : {}),
      ...(parsed.probes !== undefined ? { probes: ctx.paths.file(parsed.probes) } : {}),
      ...(parsed.embedders ? { embedders: parsed.embedders.map((e) => (e.path ? { ...e, path: ctx.paths.file(e.path) } : e)) } : {}),
      ...(judgeModel ? { judge: judgeModel } : {}),
    };
    return {
      kind: "generate",
      entry: spec,
      async prepare(env) {
        const where = `task '${env.name}'`;
        if (spec.hypotheses && !spec.embedders) throw new QuantevalError(`${where}: 'hypotheses' are stated over embedding distances; add 'embedders' (e.g. [{kind: model2vec, path: …}])`);
        let probes: Probe[] = [];
        let probesPath: string | undefined;
        if (spec.probes) {
          probesPath = resolveLocalPath(spec.probes);
          if (!probesPath) throw new QuantevalError(`${where}: probes file '${spec.probes}' not found (looked beside the config and in the working directory)`);
          probes = loadProbes(probesPath);
        }
        const probePrompts = probes.map((p, k) => render(spec.probe_prompt ?? "{{question}}", { question: p.question }, `${where}: probe_prompt (probe ${k})`));
        // Preflight: every dataset is found and its prompts render before any model loads.
        const data = spec.data === undefined ? [] : Array.isArray(spec.data) ? spec.data : [spec.data];
        if (data.length)
          await loadGenerateItems(data, {
            taskName: env.name,
            dataDir: env.dataDir,
            split: spec.split,
            input: spec.input,
            reference: spec.reference,
            limit: env.limit ?? spec.limit,
            fits: async () => true,
          });
        return prepared(spec, env, probes, probesPath, probePrompts);
      },
    };
  },
};
