// Where datasets and models are looked up when a config names them by id.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** QUANTEVAL_DATA_DIR, else ~/.cache/quanteval/datasets. */
export function dataDir(override?: string): string {
  return resolve(override ?? process.env.QUANTEVAL_DATA_DIR ?? join(homedir(), ".cache", "quanteval", "datasets"));
}

/** QUANTEVAL_MODELS_DIR, else ~/.cache/quanteval/models. */
export function modelsDir(override?: string): string {
  return resolve(override ?? process.env.QUANTEVAL_MODELS_DIR ?? join(homedir(), ".cache", "quanteval", "models"));
}
