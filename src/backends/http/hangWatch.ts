// Health of a model's replicas: an attempt still unanswered long after the usual answer time
// (hangFactor × the median of recent answers, at least hangFloorMs) marks its replica as hung.
// The replica is taken out for a cooldown (doubling while it keeps hanging), one line is logged,
// and the attempt is aborted so the pool retries it on another replica, instead of every
// request on that replica waiting out the full timeout. With one replica there is nowhere to
// move a request, so only the timeout applies.

/** One server of a model, as the pool tracks it. */
export interface Replica {
  url: string;
  inFlight: number;
  /** Not picked before this time (ms since epoch) after hanging. */
  downUntil: number;
  /** Consecutive hangs, for the cooldown's doubling. */
  hangs: number;
}

/** An attempt in flight, watched for hanging. */
export interface Attempt {
  replica: number;
  started: number;
  abort: AbortController;
}

export interface HangWatchOptions {
  hangFactor: number;
  hangFloorMs: number;
  cooldownMs: number;
  warn: (message: string) => void;
  /** Model name for the logged line. */
  label: string;
  /** A replica URL as it may be printed. */
  redact: (url: string) => string;
}

/** Successful answer times kept for the median. */
const LATENCY_WINDOW = 64;
/** Answers needed before the median is trusted for hang detection. */
const LATENCY_MIN_SAMPLES = 8;

export class HangWatch {
  private readonly latencies: number[] = [];
  private readonly attempts = new Set<Attempt>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly replicas: Replica[],
    /** Per replica: times taken out, counted here (the pool's stats). */
    private readonly timeouts: number[],
    private readonly opts: HangWatchOptions,
  ) {}

  /** Starts watching an attempt on replica `ri`; its `abort` fires if the replica hangs. */
  watch(ri: number): Attempt {
    const a: Attempt = { replica: ri, started: Date.now(), abort: new AbortController() };
    this.attempts.add(a);
    if (this.replicas.length > 1 && !this.timer) {
      this.timer = setInterval(() => this.check(), 500);
      this.timer.unref();
    }
    return a;
  }

  unwatch(a: Attempt): void {
    this.attempts.delete(a);
    if (this.attempts.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Records a successful answer's time; its replica is healthy again. */
  answered(a: Attempt): void {
    this.latencies.push(Date.now() - a.started);
    if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
    this.replicas[a.replica].hangs = 0;
  }

  /** How long an attempt may stay unanswered before its replica counts as hung; Infinity when unknown or alone. */
  deadlineMs(): number {
    if (this.replicas.length < 2 || this.latencies.length < LATENCY_MIN_SAMPLES) return Infinity;
    const sorted = [...this.latencies].sort((x, y) => x - y);
    return Math.max(this.opts.hangFloorMs, this.opts.hangFactor * sorted[sorted.length >> 1]);
  }

  /** Takes out replicas whose attempts hang past the deadline while another replica is up. */
  private check(): void {
    const deadline = this.deadlineMs();
    if (!Number.isFinite(deadline)) return;
    const now = Date.now();
    for (const a of this.attempts) {
      if (now - a.started < deadline || a.abort.signal.aborted) continue;
      const r = this.replicas[a.replica];
      if (!this.replicas.some((o, i) => i !== a.replica && o.downUntil <= now)) continue;
      if (r.downUntil <= now) {
        r.hangs++;
        const cooldown = this.opts.cooldownMs * 2 ** Math.min(5, r.hangs - 1);
        r.downUntil = now + cooldown;
        this.timeouts[a.replica]++;
        this.opts.warn(
          `${this.opts.label}: replica ${this.opts.redact(r.url)} gave no answer within ${Math.round(deadline)} ms (${this.opts.hangFactor}× the median answer time); taken out for ${Math.round(cooldown / 1000)} s, its requests go to the other replicas`,
        );
      }
      a.abort.abort(new Error("hung"));
    }
  }
}
