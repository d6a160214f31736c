// What a run's store (quanteval.sqlite under --out) holds, read as a test sees it: opened
// read-only, also while the run that writes it is still going.
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/** `read` on the store in `out`, opened read-only (throws when there is none). */
export function readStore<T>(out: string, read: (db: Database.Database) => T): T {
  const db = new Database(join(out, "quanteval.sqlite"), { readonly: true, timeout: 5000 });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** {@link readStore}, or undefined while there is no store or it cannot be read yet (a run still creating it). */
export function tryReadStore<T>(out: string, read: (db: Database.Database) => T): T | undefined {
  if (!existsSync(join(out, "quanteval.sqlite"))) return undefined;
  try {
    return readStore(out, read);
  } catch {
    return undefined;
  }
}

const count = (db: Database.Database, sql: string) => (db.prepare(sql).get() as { n: number }).n;

/** Every row of the cache table (answers, chunk records…). */
export function cacheRows(out: string): number {
  return readStore(out, (db) => count(db, "SELECT count(*) AS n FROM cache"));
}

/** Backend requests committed in an open store (perplexity's chunk records, `{"chunk":…}`, are not requests). */
export function requestCount(db: Database.Database): number {
  return count(db, `SELECT count(*) AS n FROM cache WHERE value NOT LIKE '{"chunk":%'`);
}

/** {@link requestCount} of the store in `out`, 0 before it exists. */
export function requestRows(out: string): number {
  return tryReadStore(out, requestCount) ?? 0;
}

/** The store's meta value under `key` (status, lock…), undefined when unset. */
export function metaValue(out: string, key: string): string | undefined {
  return readStore(out, (db) => (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value);
}
