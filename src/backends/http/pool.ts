// JSON requests to one model served by one or more replicas: a global concurrency limit,
// least-busy replica choice, and retries with exponential backoff and full jitter on 429,
// 5xx, timeouts and dropped connections. Replicas are health-tracked: one that hangs far past
// the usual answer time is taken out for a while (with a logged line) instead of holding
// requests for the whole timeout. A deterministic refusal (401/403) is sent once, not retried.
//
// Hand-written rather than built on a retry/queue package: none is a direct dependency, and
// the retry loop must also move a failed request to another replica and release its
// concurrency slot while it backs off, which generic retry helpers do not do.
import { QuantevalError } from "../../util/errors.js";
import { reportAnswer } from "../../util/answerSink.js";
import { createRng } from "../../util/rng.js";
import { fetchText } from "../../util/fetchText.js";
import { HangWatch, type Replica } from "./hangWatch.js";
import { joinUrl, Redactor, redactUrl, urlSecrets } from "./redact.js";

/** An HTTP failure that retries could not fix; its message is already redacted. */
export class HttpError extends QuantevalError {
  constructor(
    message: string,
    /** HTTP status, or 0 for network errors and timeouts. */
    readonly status: number,
    /** Start of the response body (redacted). */
    readonly body: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface HttpPoolOptions {
  /** Server roots ("http://host:8080"), one per replica. */
  baseUrls: string[];
  /** Requests in flight over all replicas together. */
  concurrency: number;
  /** Per-attempt timeout in milliseconds. */
  timeoutMs: number;
  /** Sent as "Authorization: Bearer …"; never appears in errors. */
  apiKey?: string;
  /** Attempts per request before giving up (default 8). */
  maxAttempts?: number;
  /** First backoff ceiling in ms (default 200); doubles per attempt. */
  retryBaseMs?: number;
  /** Largest backoff in ms (default 10000). */
  retryMaxMs?: number;
  /** Label for error messages, e.g. the model name. */
  label?: string;
  /**
   * With several replicas, an attempt still unanswered after this many times the median
   * answer time (and at least `hangFloorMs`) counts as hung: its replica is taken out for a
   * while and the request moves on (default 20).
   */
  hangFactor?: number;
  /** Shortest hang deadline in ms (default 10000). */
  hangFloorMs?: number;
  /** How long a hung replica stays out, in ms (default 30000; doubles while it keeps hanging). */
  replicaCooldownMs?: number;
  /** Receives one line when a replica is taken out (default: stderr). */
  onWarning?: (message: string) => void;
}

export interface CallOptions {
  method?: "GET" | "POST";
  /** Only this replica (for probing each server at open). */
  replica?: number;
  /** True for an error response that is deterministic, so retrying cannot help. */
  fatal?: (status: number, body: string) => boolean;
  /** Attempts for this call (probes use 1). */
  maxAttempts?: number;
}

/** Counters for the manifest and for tests. */
export interface PoolStats {
  /** Logical requests that succeeded. */
  requests: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** Per replica: attempts sent. */
  perReplica: number[];
  /** Per replica: times it was taken out as hung. */
  replicaTimeouts: number[];
}

const RETRY_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends JSON requests to a model's replicas under one concurrency limit, with retries. */
export class HttpPool {
  readonly stats: PoolStats;
  private readonly replicas: Replica[];
  private readonly redactor: Redactor;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly label: string;
  /** Jitter only spreads retries in time; it never affects results. */
  private readonly rng = createRng(0x6a177e2);
  private rr = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly health: HangWatch;
  /** Paths that answered 2xx once; until then one request at a time, so a refusal is sent once. */
  private readonly proven = new Set<string>();
  private readonly probing = new Map<string, Promise<void>>();
  /** A deterministic refusal (401/403): every later request fails with it without being sent. */
  private refused: HttpError | undefined;

  constructor(private opts: HttpPoolOptions) {
    if (opts.baseUrls.length === 0) throw new QuantevalError("http backend: no base_url given");
    this.opts = { ...opts };
    this.replicas = opts.baseUrls.map((url) => ({ url: url.replace(/\/+$/, ""), inFlight: 0, downUntil: 0, hangs: 0 }));
    this.redactor = new Redactor([opts.apiKey, ...opts.baseUrls.flatMap(urlSecrets)]);
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.retryBaseMs = opts.retryBaseMs ?? 200;
    this.retryMaxMs = opts.retryMaxMs ?? 10_000;
    this.label = opts.label ?? "http backend";
    this.stats = { requests: 0, retries: 0, perReplica: this.replicas.map(() => 0), replicaTimeouts: this.replicas.map(() => 0) };
    this.health = new HangWatch(this.replicas, this.stats.replicaTimeouts, {
      hangFactor: opts.hangFactor ?? 20,
      hangFloorMs: opts.hangFloorMs ?? 10_000,
      cooldownMs: opts.replicaCooldownMs ?? 30_000,
      warn: opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)),
      label: this.label,
      redact: redactUrl,
    });
  }

  get replicaCount(): number {
    return this.replicas.length;
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  /** Changes the limit (used once the servers' slot count is known). */
  setConcurrency(n: number): void {
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`internal: concurrency ${n}`);
    this.opts.concurrency = n;
    while (this.active < n && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!();
    }
  }

  /** The replicas' URLs without credentials or query strings. */
  redactedUrls(): string[] {
    return this.replicas.map((r) => redactUrl(r.url));
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }

  private async acquire(): Promise<void> {
    if (this.active < this.opts.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Least busy healthy replica, round-robin among equals; avoids `avoid` when another exists. */
  private pick(avoid: number | undefined): number {
    const now = Date.now();
    const n = this.replicas.length;
    const healthy = this.replicas.some((r, i) => i !== avoid && r.downUntil <= now);
    let best = -1;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      if (i === avoid && n > 1) continue;
      if (healthy && this.replicas[i].downUntil > now) continue;
      if (best < 0 || this.replicas[i].inFlight < this.replicas[best].inFlight) best = i;
    }
    this.rr = (this.rr + 1) % n;
    return best < 0 ? (avoid ?? 0) : best;
  }

  /** Until `path` has answered once, waits for the one request to it in flight; returns a release for the prober. */
  private async gate(path: string): Promise<(() => void) | undefined> {
    const key = path.split("?")[0];
    for (;;) {
      if (this.refused) throw this.refused;
      if (this.proven.has(key)) return undefined;
      const pending = this.probing.get(key);
      if (!pending) break;
      await pending;
    }
    let done!: () => void;
    this.probing.set(key, new Promise<void>((r) => (done = r)));
    return () => {
      this.probing.delete(key);
      done();
    };
  }

  private backoff(attempt: number, retryAfter: string | null): number {
    const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1));
    const jittered = this.rng.float() * ceiling;
    const after = retryAfter !== null ? Number(retryAfter) : NaN;
    return Number.isFinite(after) && after >= 0 ? Math.min(this.retryMaxMs, Math.max(jittered, after * 1000)) : jittered;
  }

  /**
   * One JSON request, retried until it succeeds or fails for good. Resolves exactly once
   * with the parsed body of the first successful attempt.
   */
  async request<T>(path: string, body?: unknown, call: CallOptions = {}): Promise<T> {
    const ungate = await this.gate(path);
    try {
      const v = await this.send<T>(path, body, call);
      this.proven.add(path.split("?")[0]);
      return v;
    } finally {
      ungate?.();
    }
  }

  private async send<T>(path: string, body: unknown, call: CallOptions): Promise<T> {
    const method = call.method ?? (body === undefined ? "GET" : "POST");
    const attempts = call.maxAttempts ?? this.maxAttempts;
    let avoid: number | undefined;
    let last: HttpError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.acquire();
      const ri = call.replica ?? this.pick(avoid);
      const replica = this.replicas[ri];
      const url = joinUrl(replica.url, path);
      replica.inFlight++;
      this.stats.perReplica[ri]++;
      let status = 0;
      let text = "";
      let retryAfter: string | null = null;
      let failure: string | undefined;
      const attempt_ = this.health.watch(ri);
      try {
        const headers: Record<string, string> = { accept: "application/json" };
        if (body !== undefined) headers["content-type"] = "application/json";
        if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
        ({ status, retryAfter, text } = await fetchText(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, this.opts.timeoutMs, attempt_.abort.signal));
      } catch (e) {
        const err = e as Error & { cause?: { code?: string; message?: string } };
        failure = attempt_.abort.signal.aborted
          ? `replica hung (no answer within ${Date.now() - attempt_.started} ms while the others answer)`
          : err.name === "TimeoutError" || err.name === "AbortError"
            ? `no answer within ${this.opts.timeoutMs} ms`
            : `${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message ?? ""})` : ""}`;
        status = 0;
      } finally {
        this.health.unwatch(attempt_);
        replica.inFlight--;
        this.release();
      }
      const where = `${method} ${redactUrl(url)}`;
      if (failure === undefined && status >= 200 && status < 300) {
        try {
          const parsed = JSON.parse(text) as T;
          this.stats.requests++;
          this.health.answered(attempt_);
          return parsed;
        } catch {
          // A body cut short by a dropped connection: retry like a network error.
          failure = `response is not JSON (${text.length} bytes)`;
        }
      }
      const snippet = this.redact(text.slice(0, 300).replace(/\s+/g, " "));
      const message = failure !== undefined ? `${this.label}: ${where} failed: ${this.redact(failure)}` : `${this.label}: ${where} answered HTTP ${status}: ${snippet}`;
      last = new HttpError(message, failure !== undefined ? 0 : status, snippet);
      const retryable = failure !== undefined || (RETRY_STATUS.has(status) && !(call.fatal?.(status, text) ?? false));
      if (!retryable) {
        if (status === 401 || status === 403) {
          this.refused = new HttpError(`${this.label}: ${where} refused the request (HTTP ${status}); set api_key_env to the environment variable holding a valid API key`, status, snippet);
          throw this.refused;
        }
        throw last;
      }
      if (attempt < attempts) {
        this.stats.retries++;
        avoid = ri;
        await sleep(this.backoff(attempt, retryAfter));
      }
    }
    throw new HttpError(`${last!.message} (gave up after ${attempts} attempts)`, last!.status, last!.body);
  }

  /**
   * forEachIndex for a backend call's answers, one per request of the batch: each is also
   * reported to the run store as it arrives (util/answerSink), so a later failure keeps it.
   */
  forEachAnswer<T>(n: number, fn: (i: number) => Promise<T>, onProgress?: (done: number, total: number) => void): Promise<T[]> {
    return this.forEachIndex(
      n,
      async (i) => {
        const v = await fn(i);
        reportAnswer(n, i, v);
        return v;
      },
      onProgress,
    );
  }

  /**
   * Runs `fn` for indices 0..n-1 with at most `concurrency` running at once. Every index
   * resolves exactly once; the first failure stops new work and is thrown after the
   * running ones settle.
   */
  async forEachIndex<T>(n: number, fn: (i: number) => Promise<T>, onProgress?: (done: number, total: number) => void): Promise<T[]> {
    const results = new Array<T>(n);
    const filled = new Uint8Array(n);
    let next = 0;
    let done = 0;
    let failed: unknown;
    const worker = async (): Promise<void> => {
      while (failed === undefined && next < n) {
        const i = next++;
        try {
          const v = await fn(i);
          if (filled[i]) throw new Error(`internal: request ${i} resolved twice`);
          results[i] = v;
          filled[i] = 1;
          onProgress?.(++done, n);
        } catch (e) {
          failed ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(n, Math.max(1, this.opts.concurrency)) }, worker));
    if (failed !== undefined) throw failed;
    const missing = filled.indexOf(0);
    if (missing >= 0) throw new Error(`internal: request ${missing} never resolved`);
    return results;
  }
}
