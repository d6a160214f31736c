// Reads a finished (or running) run for the viewer and the report: results.json plus the run
// store opened read-only, so it never takes the writer lock and can read while a run writes.
// Samples are paged and filtered inside SQLite: a page never loads more than `limit` samples.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { readResults as readResultsFile } from "../results/resultsFile.js";
import type { RunResults } from "../results/types.js";
import { STORE_FILE } from "../store/runStore.js";
import { explainStoreError } from "../store/storeErrors.js";
import { QuantevalError } from "../util/errors.js";

export const RESULTS_FILE = "results.json";

/** Which samples a page shows. */
export type SampleFilter = "all" | "changed" | "correct_to_wrong" | "wrong_to_correct";
export const SAMPLE_FILTERS: SampleFilter[] = ["all", "changed", "correct_to_wrong", "wrong_to_correct"];

export interface SampleQuery {
  task: string;
  variant: string;
  filter?: SampleFilter;
  /** Case-insensitive text search over prompts, choices, answers and references. */
  q?: string;
  offset?: number;
  limit?: number;
}

export interface SamplePair {
  doc_id: number;
  baseline: Record<string, unknown>;
  variant: Record<string, unknown>;
}

export interface SamplePage {
  task: string;
  baseline: string;
  variant: string;
  filter: SampleFilter;
  q: string;
  offset: number;
  limit: number;
  /** Samples matching the filter and search. */
  total: number;
  /** Samples matching the search under each filter. */
  counts: Record<SampleFilter, number>;
  rows: SamplePair[];
}

/** One task × variant comparison that has samples in the store. */
export interface ComparisonInfo {
  task: string;
  type: string;
  variant: string;
  samples: number;
}

export const MAX_PAGE = 500;

/**
 * The answer a sample gave: the chosen index for multiple choice, the text for generation
 * tasks (whichever of these fields the task type writes).
 */
const answer = (t: string) =>
  `coalesce(json_extract(${t}.data, '$.pred'), json_extract(${t}.data, '$.output'), json_extract(${t}.data, '$.generation'), json_extract(${t}.data, '$.completion'), json_extract(${t}.data, '$.text'))`;
const FILTER_SQL: Record<SampleFilter, string> = {
  all: "1",
  changed: `(${answer("b")} IS NOT ${answer("v")})`,
  correct_to_wrong: "(json_extract(b.data, '$.correct') = 1 AND json_extract(v.data, '$.correct') = 0)",
  wrong_to_correct: "(json_extract(b.data, '$.correct') = 0 AND json_extract(v.data, '$.correct') = 1)",
};
const text = (t: string) =>
  `coalesce(json_extract(${t}.data, '$.prompt'), '') || char(10) || coalesce(json_extract(${t}.data, '$.choices'), '') || char(10) || coalesce(json_extract(${t}.data, '$.reference'), '') || char(10) || coalesce(${answer(t)}, '')`;
const SEARCH_SQL = `(@q = '' OR instr(lower(${text("b")} || char(10) || ${text("v")}), lower(@q)) > 0 OR CAST(b.doc_id AS TEXT) = @q)`;
const FROM = "FROM samples b JOIN samples v ON v.task = b.task AND v.doc_id = b.doc_id AND v.model = @variant WHERE b.task = @task AND b.model = @baseline";

/** Does `dir` hold a run (results.json and the run store)? */
export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, RESULTS_FILE)) && existsSync(join(dir, STORE_FILE));
}

/** Reads a run's results.json (the typed schema, version-checked); optional fields get their defaults. */
export function readResults(dir: string): RunResults {
  const r = readResultsFile(join(dir, RESULTS_FILE));
  return { ...r, warnings: r.warnings ?? [], models: r.models ?? {}, manifest: r.manifest ?? {}, requests: r.requests ?? { cached: 0, computed: 0 }, noise_floor: r.noise_floor ?? null };
}

/** A run opened for reading. */
export class RunReader {
  readonly dir: string;
  readonly results: RunResults;
  /** results.json's modification time when read, to notice a rewritten run. */
  readonly mtimeMs: number;
  private readonly db: Database.Database;
  private readonly pageStmts: Map<SampleFilter, Database.Statement>;
  private readonly countStmt: Database.Statement;
  private readonly countCache = new Map<string, Record<SampleFilter, number>>();

  private constructor(dir: string, results: RunResults, db: Database.Database, mtimeMs: number) {
    this.dir = dir;
    this.results = results;
    this.db = db;
    this.mtimeMs = mtimeMs;
    this.pageStmts = new Map(
      SAMPLE_FILTERS.map((f) => [f, db.prepare(`SELECT b.doc_id AS doc_id, b.data AS b, v.data AS v ${FROM} AND ${SEARCH_SQL} AND ${FILTER_SQL[f]} ORDER BY b.doc_id LIMIT @limit OFFSET @offset`)]),
    );
    this.countStmt = db.prepare(
      `SELECT count(*) AS all_, coalesce(sum(${FILTER_SQL.changed}), 0) AS changed, coalesce(sum(${FILTER_SQL.correct_to_wrong}), 0) AS c2w, coalesce(sum(${FILTER_SQL.wrong_to_correct}), 0) AS w2c ${FROM} AND ${SEARCH_SQL}`,
    );
  }

  /** Opens the run in `dir` read-only. */
  static open(dir: string): RunReader {
    const results = readResults(dir);
    const file = join(dir, STORE_FILE);
    if (!existsSync(file)) throw new QuantevalError(`${file}: run store not found; pass a run's output folder (it holds results.json and ${STORE_FILE})`);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (e) {
      throw new QuantevalError(`${file}: cannot open the run store read-only (${(e as Error).message}); check the file's permissions`);
    }
    try {
      // Preparing the page queries reads the schema: a corrupt file fails here, as one line.
      return new RunReader(dir, results, db, statSync(join(dir, RESULTS_FILE)).mtimeMs);
    } catch (e) {
      db.close();
      throw explainStoreError(e, file) ?? new QuantevalError(`${file}: not a readable run store (${(e as Error).message}); re-run the evaluation or pass another folder`);
    }
  }

  /** Every task × variant (noise floor included) with its number of samples in the store. */
  comparisons(): ComparisonInfo[] {
    const r = this.results;
    const counts = new Map<string, number>();
    for (const row of this.db.prepare("SELECT task, model, count(*) AS n FROM samples GROUP BY task, model").all() as Array<{ task: string; model: string; n: number }>) {
      counts.set(`${row.task}\u0000${row.model}`, row.n);
    }
    const out: ComparisonInfo[] = [];
    for (const [task, t] of Object.entries(r.tasks)) {
      if (!counts.has(`${task}\u0000${r.baseline}`)) continue;
      for (const variant of [...r.variants, ...(r.noise_floor ? [r.noise_floor] : [])]) {
        const n = counts.get(`${task}\u0000${variant}`);
        if (n) out.push({ task, type: t.type, variant, samples: n });
      }
    }
    return out;
  }

  /** One page of baseline/variant sample pairs, filtered and searched inside SQLite. */
  page(query: SampleQuery): SamplePage {
    const filter = query.filter ?? "all";
    if (!SAMPLE_FILTERS.includes(filter)) throw new QuantevalError(`filter '${String(filter)}' is unknown; use one of ${SAMPLE_FILTERS.join(", ")}`);
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(query.limit ?? 50)));
    const q = (query.q ?? "").trim();
    const params = { task: query.task, baseline: this.results.baseline, variant: query.variant, q };
    // Counting reads every pair once; paging through the same view reuses the counts.
    const key = JSON.stringify([query.task, query.variant, q]);
    let counts = this.countCache.get(key);
    if (!counts) {
      const c = this.countStmt.get(params) as { all_: number; changed: number; c2w: number; w2c: number };
      counts = { all: c.all_, changed: c.changed, correct_to_wrong: c.c2w, wrong_to_correct: c.w2c };
      if (this.countCache.size >= 64) this.countCache.delete(this.countCache.keys().next().value!);
      this.countCache.set(key, counts);
    }
    const rows = (this.pageStmts.get(filter)!.all({ ...params, limit, offset }) as Array<{ doc_id: number; b: string; v: string }>).map((x) => ({
      doc_id: x.doc_id,
      baseline: JSON.parse(x.b) as Record<string, unknown>,
      variant: JSON.parse(x.v) as Record<string, unknown>,
    }));
    return { task: query.task, baseline: this.results.baseline, variant: query.variant, filter, q, offset, limit, total: counts[filter], counts, rows };
  }

  close(): void {
    this.db.close();
  }
}
