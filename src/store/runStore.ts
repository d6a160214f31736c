// The run store: one SQLite file under the output directory, the only writer of run state.
// - `cache` holds every backend answer under a key that includes the model fingerprint
//   (weights sha256 + backend + settings) and the request, so a resumed run never sends a
//   finished request again and two models can never share an answer.
// - `samples` holds per-sample results; `meta` the config hash, status and a writer lock
//   (host, PID and process start time: see writerLock.ts).
// WAL mode and one transaction per batch (or per answer, for backends that report answers as
// they arrive) keep the file consistent if the process is killed.
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { withAnswerSink } from "../util/answerSink.js";
import { QuantevalError } from "../util/errors.js";
import { explainStoreError, guardStore } from "./storeErrors.js";
import { currentHolder, parseHolder, sameHolder, staleReason } from "./writerLock.js";

export const STORE_FILE = "quanteval.sqlite";

export function cacheKey(fingerprint: string, kind: string, request: unknown): string {
  return createHash("sha256").update(fingerprint).update("\u0000").update(kind).update("\u0000").update(JSON.stringify(request)).digest("hex");
}

/** Files a finished run writes beside the store; found without a store they are someone else's. */
const RESULT_FILES = ["results.json", "samples.jsonl"];

export interface OpenStoreOptions {
  /** Hash of the config; a directory holding another config's run is refused. */
  configHash: string;
  /** Continue an interrupted or finished run with the same config. */
  resume?: boolean;
  /** Receives notices such as a stale lock taken over (default: stderr). */
  onNotice?: (message: string) => void;
}

/** Files of the stores this process opened, so an error caught outside the store can name its file. */
const openFiles = new Set<string>();

/** The one store file this process opened (what a SQLite error caught elsewhere refers to), if exactly one. */
export function openStoreFile(): string | undefined {
  return openFiles.size === 1 ? [...openFiles][0] : undefined;
}

export class RunStore {
  readonly db: Database.Database;
  readonly dir: string;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  /** Backend requests answered from the cache and sent, for the run summary. */
  readonly counters = { cached: 0, computed: 0 };
  /** When aborted, the next batch boundary stops the run (its finished batches are kept). */
  signal?: AbortSignal;

  private constructor(dir: string, db: Database.Database) {
    this.dir = dir;
    this.db = db;
    this.getStmt = db.prepare("SELECT value FROM cache WHERE key = ?");
    this.putStmt = db.prepare("INSERT OR REPLACE INTO cache(key, value) VALUES (?, ?)");
  }

  /** Opens (or creates) the store in `dir`, takes the writer lock, and checks the config. */
  static open(dir: string, opts: OpenStoreOptions): RunStore {
    if (dir.trim() === "") throw new QuantevalError(`--out is empty; name an output folder (e.g. --out runs/today)`);
    const file = join(dir, STORE_FILE);
    const fresh = !existsSync(file);
    if (fresh) {
      const foreign = RESULT_FILES.filter((f) => existsSync(join(dir, f)));
      if (foreign.length > 0) {
        throw new QuantevalError(
          `--out ${dir}: holds ${foreign.join(" and ")} but no ${STORE_FILE} (not a quanteval run this command can continue); refusing to overwrite them; choose an empty --out`,
        );
      }
    }
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch {
      throw new QuantevalError(`--out ${dir}: directory is not writable; choose another --out`);
    }
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: 5000 });
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS samples (task TEXT NOT NULL, model TEXT NOT NULL, doc_id INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (task, model, doc_id));
      `);
    } catch (e) {
      throw explainStoreError(e, file) ?? new QuantevalError(`${file}: cannot open the run store (${(e as Error).message}); choose another --out`);
    }
    const store = new RunStore(dir, db);
    try {
      guardStore(file, () => store.lock(opts, fresh));
    } catch (e) {
      db.close();
      throw e;
    }
    openFiles.add(file);
    return store;
  }

  /** The store file. */
  get file(): string {
    return join(this.dir, STORE_FILE);
  }

  /**
   * True while nothing was computed into the store: no cache entry, no sample. A run that
   * failed its pre-check leaves such a store, and it must not refuse the corrected config.
   */
  private pristine(): boolean {
    return this.db.prepare("SELECT 1 FROM cache LIMIT 1").get() === undefined && this.db.prepare("SELECT 1 FROM samples LIMIT 1").get() === undefined;
  }

  private lock(opts: OpenStoreOptions, fresh: boolean): void {
    const me = currentHolder();
    const notice = opts.onNotice ?? ((m: string) => process.stderr.write(`note: ${m}\n`));
    const notices: string[] = [];
    const take = this.db.transaction(() => {
      const stored = this.getMeta("lock");
      const legacy = this.getMeta("lock_pid");
      const raw = stored ?? legacy;
      if (raw) {
        const holder = parseHolder(raw);
        if (!sameHolder(holder, me) && !(stored === undefined && holder.pid === me.pid)) {
          const stale = staleReason(holder);
          if (stale === null) {
            const where = holder.host === me.host ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.host}`;
            throw new QuantevalError(`--out ${this.dir}: another quanteval run (${where}) is writing to this directory; wait for it or choose another --out`);
          }
          notices.push(`--out ${this.dir}: taking over a stale lock (${stale}); the interrupted run's finished work is kept`);
        }
      }
      const existing = this.getMeta("config_hash");
      const blank = fresh || this.pristine();
      if (!blank && existing && existing !== opts.configHash) {
        throw new QuantevalError(`--out ${this.dir}: directory already holds a different run (another config); choose another --out`);
      }
      if (!blank && existing && !opts.resume) {
        throw new QuantevalError(`--out ${this.dir}: directory already holds this run; pass --resume to continue it or choose another --out`);
      }
      this.setMeta("config_hash", opts.configHash);
      this.db.prepare("DELETE FROM meta WHERE key = 'lock_pid'").run();
      this.setMeta("lock", JSON.stringify(me));
      if (!existing) this.setMeta("created", new Date().toISOString());
      this.setMeta("status", "running");
    });
    take.immediate();
    for (const n of notices) notice(n);
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    guardStore(this.file, () => this.db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)").run(key, value));
  }

  getCached<T>(key: string): T | undefined {
    const row = this.getStmt.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  /** Writes many cache entries in one transaction: all or nothing. */
  putCached(entries: Array<[string, unknown]>): void {
    const tx = this.db.transaction((es: Array<[string, unknown]>) => {
      for (const [k, v] of es) this.putStmt.run(k, JSON.stringify(v));
    });
    guardStore(this.file, () => tx(entries));
  }

  /** Replaces a task's samples of a model, in one transaction. */
  putSamples(task: string, model: string, samples: Array<{ doc_id: number } & Record<string, unknown>>): void {
    const tx = this.db.transaction(() => {
      this.deleteSamples(task, model);
      this.appendSamples(task, model, samples);
    });
    guardStore(this.file, () => tx());
  }

  /** Removes a task's samples of a model (before they are written again, page by page with {@link appendSamples}). */
  deleteSamples(task: string, model: string): void {
    guardStore(this.file, () => this.db.prepare("DELETE FROM samples WHERE task = ? AND model = ?").run(task, model));
  }

  /** Adds samples of a task's model to those already stored (a large task written page by page). */
  appendSamples(task: string, model: string, samples: Array<{ doc_id: number } & Record<string, unknown>>): void {
    const stmt = this.db.prepare("INSERT OR REPLACE INTO samples(task, model, doc_id, data) VALUES (?, ?, ?, ?)");
    guardStore(this.file, () =>
      this.db.transaction(() => {
        for (const s of samples) stmt.run(task, model, s.doc_id, JSON.stringify(s));
      })(),
    );
  }

  /** Pages through one task's samples of a model, for the viewer. */
  samples(task: string, model: string, offset = 0, limit = 1_000_000): Array<Record<string, unknown>> {
    return (this.db.prepare("SELECT data FROM samples WHERE task = ? AND model = ? ORDER BY doc_id LIMIT ? OFFSET ?").all(task, model, limit, offset) as Array<{ data: string }>).map(
      (r) => JSON.parse(r.data) as Record<string, unknown>,
    );
  }

  /**
   * Runs `compute` for the requests missing from the cache, in batches of `batchSize`, and
   * returns every answer in request order. A backend that reports answers as they arrive
   * (util/answerSink) has each one committed at once, so a batch that fails part-way keeps
   * its answered requests; otherwise each batch is committed whole before the next.
   */
  async cached<Req, Res>(
    fingerprint: string,
    kind: string,
    requests: Req[],
    compute: (missing: Req[]) => Promise<Res[]>,
    opts: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<Res[]> {
    const keys = requests.map((r) => cacheKey(fingerprint, kind, r));
    const out: Array<Res | undefined> = keys.map((k) => this.getCached<Res>(k));
    const missing = out.map((v, i) => (v === undefined ? i : -1)).filter((i) => i >= 0);
    this.counters.cached += requests.length - missing.length;
    let done = requests.length - missing.length;
    opts.onProgress?.(done, requests.length);
    const size = opts.batchSize ?? 256;
    for (let s = 0; s < missing.length; s += size) {
      this.throwIfStopped();
      const idx = missing.slice(s, s + size);
      const committed = new Uint8Array(idx.length);
      const sink = {
        total: idx.length,
        put: (k: number, value: unknown) => {
          if (committed[k] || !(k >= 0 && k < idx.length)) return;
          guardStore(this.file, () => this.putStmt.run(keys[idx[k]], JSON.stringify(value)));
          committed[k] = 1;
          this.counters.computed++;
        },
      };
      const res = await withAnswerSink(sink, () => compute(idx.map((i) => requests[i])));
      this.putCached(idx.flatMap((i, k): Array<[string, unknown]> => (committed[k] ? [] : [[keys[i], res[k]]])));
      idx.forEach((i, k) => (out[i] = res[k]));
      this.counters.computed += idx.length - committed.reduce((a, b) => a + b, 0);
      done += idx.length;
      opts.onProgress?.(done, requests.length);
    }
    return out as Res[];
  }

  /** Throws the one-line "interrupted" error (exit 130) once {@link signal} is aborted; called at batch boundaries. */
  throwIfStopped(): void {
    if (this.signal?.aborted) throw new QuantevalError(`interrupted: ${this.dir} keeps every finished batch; continue with the same command and --resume`, 130);
  }

  /** Marks the run finished (or interrupted) and releases the writer lock. */
  close(status: "done" | "interrupted" | "failed"): void {
    try {
      this.setMeta("status", status);
      this.db.prepare("DELETE FROM meta WHERE key = 'lock' AND value = ?").run(JSON.stringify(currentHolder()));
    } catch {
      // a full disk or a store closed twice (signal during close): the lock is provably stale
      // once this process is gone, so the next run takes it over
    }
    try {
      this.db.close();
    } catch {
      // already closed
    }
  }
}
