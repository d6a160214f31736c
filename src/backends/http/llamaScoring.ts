// Log-probabilities of given tokens from llama-server, which has no `echo` and no prompt
// log-probs (its /v1/completions answers "Only no echo is supported"). Measured on the
// llama-server built from node-llama-cpp's llama.cpp (b1-de3ff81):
//  - With `n_probs` > 0 and `post_sampling_probs: false`, each generated token comes back
//    with its log-prob under the raw logits (softmax over the whole vocabulary, before any
//    sampler or logit bias) and the `n_probs` most likely tokens.
//  - A token-level grammar `root ::= <[id]> <[id]> …` forces the generated tokens to be
//    exactly the continuation, so one request scores a run of tokens; the prompt prefix is
//    reused from the slot's KV cache. Other tokens are forced one per request with
//    `logit_bias` (the fallback for servers whose grammar has no token syntax).
//  - The server drops the probabilities of any generated token after which the generated
//    text ends in an incomplete UTF-8 sequence (server-context.cpp process_token only keeps
//    probs when the text is valid), and a grammar cannot force such byte tokens nor an
//    end-of-generation token ("Unexpected empty grammar stack"). So a token whose piece is
//    not valid UTF-8 on its own is scored by forcing a harmless complete token at its
//    position and reading the target from that position's top-n list (n up to the whole
//    vocabulary, which is exact); end-of-generation tokens are forced by logit bias.
//  - Prompt + forced tokens must fit the slot: n_prompt + n_forced ≤ n_ctx.
//  - `cache_prompt` stays on: with one KV stream per slot (`-np N`) the reused prefix scores
//    like in-process (Q4_0 stories260K, all 2,000 KoBEST COPA requests at concurrency 8: worst
//    2.8e-5 nats). A unified KV cache (llama-server without -np, or --kv-unified) puts a
//    request's cells wherever other slots left room, and quantized models then move by up to
//    0.67 nats per request; turning the cache off fixes that only one request at a time (still
//    0.25 at concurrency 8) and costs 1.7×, so the README tells users to start with -np instead
//    (test/backends/httpUnifiedKv.test.ts).
import type { HttpPool } from "./pool.js";
import type { ProtocolId, ScoringProtocol, TokenScore } from "./protocol.js";
import { QuantevalError } from "../../util/errors.js";

interface LlamaProb {
  id: number;
  logprob: number;
  top_logprobs?: Array<{ id: number; logprob: number }>;
}

export interface LlamaScoringOptions {
  pool: HttpPool;
  /** Use `/v1/completions` and read `choices[0].logprobs.content` instead of native `/completion`. */
  oai: boolean;
  /** Forcing through a token grammar works on this server (probed at open). */
  grammar: boolean;
  /** End-of-generation token ids (forced by logit bias, never by grammar). */
  eogIds: Set<number>;
  nVocab: number;
  /** Raw bytes of every token's piece (from /tokenize with_pieces). */
  pieces: Uint8Array[];
  /** A token with a plain, complete piece, forced where a byte token is read from the top-n list. */
  standIn: number;
  /** Sent as `model` (routers serving several models need it). */
  model?: string;
  label: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isValidUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Prompts per probe request. */
const PROBES_PER_REQUEST = 32;

/** Strong enough to dominate any logit; the reported log-prob is taken before the bias. */
const FORCE_BIAS = 1e9;

/** Scores tokens by forcing them as llama-server's generated tokens. */
export class LlamaScoring implements ScoringProtocol {
  readonly id: ProtocolId;
  readonly maxTopK: number;
  readonly topHasIds = true;

  constructor(private readonly o: LlamaScoringOptions) {
    this.id = o.oai ? "llama-oai" : "llama-completion";
    this.maxTopK = o.nVocab;
  }

  /** How each target token can be scored (see the header). */
  private kindOf(t: number): "run" | "bias" | "probe" {
    if (this.o.eogIds.has(t)) return "bias";
    const p = this.o.pieces[t];
    if (!p || !isValidUtf8(p)) return "probe";
    if (p.length === 0 || p.includes(0)) return "bias";
    return this.o.grammar ? "run" : "bias";
  }

  /**
   * Splits the positions into grammar runs, single logit-bias positions and probe positions,
   * and scores them all concurrently (each depends only on the given tokens).
   */
  async score(tokens: number[], from: number, topK: number): Promise<TokenScore[]> {
    if (from < 1) throw new Error("internal: llama-server scoring needs at least one prompt token");
    const out: TokenScore[] = new Array(tokens.length - from);
    const jobs: Array<Promise<void>> = [];
    const probes: number[] = [];
    const single = (a: number) =>
      jobs.push(
        this.forced(tokens.slice(0, a), [tokens[a]], topK, false).then((r) => {
          out[a - from] = r![0];
        }),
      );
    let a = from;
    while (a < tokens.length) {
      const kind = this.kindOf(tokens[a]);
      if (kind === "run") {
        const start = a;
        while (a < tokens.length && this.kindOf(tokens[a]) === "run") a++;
        const end = a;
        jobs.push(
          this.forced(tokens.slice(0, start), tokens.slice(start, end), topK, true).then(async (run) => {
            if (run) run.forEach((r, k) => (out[start + k - from] = r));
            // The grammar was rejected: score this run position by position.
            else
              await Promise.all(
                Array.from({ length: end - start }, async (_, k) => {
                  out[start + k - from] = (await this.forced(tokens.slice(0, start + k), [tokens[start + k]], topK, false))![0];
                }),
              );
          }),
        );
        continue;
      }
      if (kind === "probe") probes.push(a);
      else single(a);
      a++;
    }
    for (let i = 0; i < probes.length; i += PROBES_PER_REQUEST) {
      const group = probes.slice(i, i + PROBES_PER_REQUEST);
      jobs.push(
        this.probe(tokens, group, topK).then((rs) => {
          rs.forEach((r, k) => (out[group[k] - from] = r));
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  /**
   * Reads each target tokens[p] from the top-n list at position p, forcing the stand-in
   * token there; one request carries several prompts (llama-server accepts a prompt array).
   */
  private async probe(tokens: number[], positions: number[], topK: number): Promise<TokenScore[]> {
    const nV = this.o.nVocab;
    const k = Math.min(nV, Math.max(topK, nV <= 4096 ? nV : 256));
    const rows = await this.request(
      positions.map((p) => tokens.slice(0, p)),
      1,
      k,
      { logit_bias: [[this.o.standIn, FORCE_BIAS]] },
      false,
    );
    return Promise.all(
      positions.map(async (p, j) => {
        const target = tokens[p];
        let top = rows[j]?.[0]?.top_logprobs;
        if (!top || rows[j].length !== 1 || rows[j][0].id !== this.o.standIn) throw this.missing(target, rows[j]);
        if (!top.some((t) => t.id === target) && k < nV) top = (await this.request([tokens.slice(0, p)], 1, nV, { logit_bias: [[this.o.standIn, FORCE_BIAS]] }, false))[0]?.[0]?.top_logprobs;
        const hit = top?.find((t) => t.id === target);
        if (!top || !hit) throw new QuantevalError(`${this.o.label}: llama-server's full distribution has no entry for token ${target}`);
        return { logprob: hit.logprob, greedy: top[0].id === target, top: top.slice(0, Math.max(1, topK)).map((t) => ({ id: t.id, logprob: t.logprob })) };
      }),
    );
  }

  private missing(token: number, got: unknown): QuantevalError {
    return new QuantevalError(`${this.o.label}: llama-server did not return the log-prob of token ${token} (got ${JSON.stringify(got)?.slice(0, 200)}); the server may be too old for n_probs scoring`);
  }

  /** One request with one or several prompts; the generated tokens' probabilities per prompt. */
  private async request(prompts: number[][], n: number, k: number, constraint: Record<string, unknown>, grammar: boolean): Promise<LlamaProb[][]> {
    const prompt = prompts.length === 1 ? prompts[0] : prompts;
    const common = { temperature: 0, cache_prompt: true, post_sampling_probs: false, ...constraint, ...(this.o.model ? { model: this.o.model } : {}) };
    const fatal = (_status: number, body: string) => grammar && /grammar/i.test(body);
    if (this.o.oai) {
      const d = await this.o.pool.request<{ choices?: Array<{ index?: number; logprobs?: { content?: LlamaProb[] } }> }>(
        "/v1/completions",
        { prompt, max_tokens: n, logprobs: k, ...common },
        { fatal },
      );
      const choices = [...(d.choices ?? [])].sort((x, y) => (x.index ?? 0) - (y.index ?? 0));
      return choices.map((c) => c.logprobs?.content ?? []);
    }
    type Native = { index?: number; completion_probabilities?: LlamaProb[] };
    const d = await this.o.pool.request<Native | Native[]>("/completion", { prompt, n_predict: n, n_probs: k, ...common }, { fatal });
    const list = Array.isArray(d) ? [...d].sort((x, y) => (x.index ?? 0) - (y.index ?? 0)) : [d];
    return list.map((x) => x.completion_probabilities ?? []);
  }

  /** Forces `forced` after `prompt`; null when the server rejects or ignores the grammar. */
  private async forced(prompt: number[], forced: number[], topK: number, grammar: boolean): Promise<TokenScore[] | null> {
    const n = forced.length;
    const k = Math.max(1, Math.min(topK, this.o.nVocab));
    const constraint = grammar ? { grammar: `root ::= ${forced.map((t) => `<[${t}]>`).join(" ")}` } : { logit_bias: [[forced[0], FORCE_BIAS]] };
    let probs: LlamaProb[] | undefined;
    try {
      probs = (await this.request([prompt], n, k, constraint, grammar))[0];
    } catch (e) {
      if (grammar && e instanceof QuantevalError && /grammar/i.test(e.message)) return null;
      throw e;
    }
    const ok = Array.isArray(probs) && probs.length === n && probs.every((p, i) => p.id === forced[i] && typeof p.logprob === "number");
    if (!ok) {
      if (grammar) return null;
      throw this.missing(forced[0], probs);
    }
    return probs!.map((p) => {
      const top = (p.top_logprobs ?? []).map((t) => ({ id: t.id, logprob: t.logprob }));
      return { logprob: p.logprob, greedy: top.length === 0 ? false : top[0].id === p.id || p.logprob >= top[0].logprob, top };
    });
  }
}
