// lm-evaluation-harness results standing in for a model (`lm_eval: DIR_OR_RESULTS_FILE` on the
// baseline or a variant): nothing is loaded; every log-likelihood request is answered from the
// samples lm-eval logged for the very same (context, continuation), so a comparison pairs its
// documents with quanteval's by doc_id and prompt. A request lm-eval never scored is refused:
// the task kinds check prompt identity per document first (assertSameLmEvalPrompts), so this
// is only the last guard.
import type { Backend, LoglikelihoodRequest, LoglikelihoodResult, ModelDescription } from "../backends/backend.js";
import type { ModelSpec } from "../config/schema.js";
import { QuantevalError } from "../util/errors.js";
import { type LmEvalResults, type LmEvalTask, readLmEvalResults } from "./readLmEvalResults.js";

const key = (context: string, continuation: string) => `${context}\u0000${continuation}`;

/** A model whose scores are an lm-eval results file (and its samples files). */
export class LmEvalBackend implements Backend {
  readonly kind = "lm_eval";
  readonly capabilities = { loglikelihood: true, rolling: false, distributions: "none" as const, generate: false };
  readonly loadMs = 0;
  private readonly answers = new Map<string, LoglikelihoodResult>();
  private readonly hash: string;

  private constructor(
    readonly name: string,
    /** The results read, by task, for the kinds' prompt guard and for unpaired scores. */
    readonly results: LmEvalResults,
  ) {
    for (const task of Object.values(results.tasks)) {
      for (const s of task.samples ?? []) {
        s.arguments.forEach(([ctx, cont], i) => {
          // lm-eval does not log token counts; 0 marks them unknown (no token normalization).
          if (Number.isFinite(s.loglikelihoods[i])) this.answers.set(key(ctx, cont), { logprob: s.loglikelihoods[i], isGreedy: s.greedy[i] ?? false, nTokens: 0, truncated: false });
        });
      }
    }
    this.hash = results.sha256;
  }

  /** Reads `spec.lm_eval` (a results_*.json or lm-eval's --output_path folder). */
  static open(spec: ModelSpec & { lm_eval?: string }): LmEvalBackend {
    if (!spec.lm_eval) throw new QuantevalError(`model '${spec.name}': no lm_eval path; give the results_*.json or --output_path folder lm_eval wrote`);
    return new LmEvalBackend(spec.name, readLmEvalResults(spec.lm_eval));
  }

  /** The lm-eval task of this name, if the results have it. */
  task(name: string): LmEvalTask | undefined {
    return this.results.tasks[name];
  }

  manifestSettings(): Record<string, unknown> {
    return { lm_eval: this.results.resultsFile };
  }

  fingerprint(): string {
    return `lm_eval:${this.hash}`;
  }

  async describe(): Promise<ModelDescription> {
    return { name: this.name, backend: "lm_eval", path: this.results.resultsFile, limitations: ["scores read from lm-evaluation-harness output: log-likelihood tasks only"] };
  }

  private unsupported(what: string): never {
    throw new QuantevalError(`model '${this.name}': lm-eval results (${this.results.resultsFile}) cannot ${what}; use them for multiple-choice tasks only`);
  }

  async tokenize(): Promise<number[]> {
    return this.unsupported("tokenize text");
  }

  detokenize(): string {
    return this.unsupported("detokenize");
  }

  contextLength(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  async loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return requests.map((r) => {
      const a = this.answers.get(key(r.context, r.continuation));
      if (!a) {
        const tail = JSON.stringify(r.context.slice(-60) + r.continuation);
        throw new QuantevalError(
          `model '${this.name}': ${this.results.resultsFile} has no logged score for the request ending ${tail}; run lm_eval with --log_samples on the same task, documents and num_fewshot`,
        );
      }
      return a;
    });
  }

  async loglikelihoodRolling(): Promise<never> {
    return this.unsupported("score rolling perplexity");
  }

  async distributions(): Promise<never> {
    return this.unsupported("give token distributions (perplexity, KLD)");
  }

  async generate(): Promise<never> {
    return this.unsupported("generate text");
  }

  async dispose(): Promise<void> {}
}

/** The lm-eval results behind a model, when it is one. */
export function lmEvalSourceOf(m: Backend): LmEvalBackend | undefined {
  return m instanceof LmEvalBackend ? m : undefined;
}
