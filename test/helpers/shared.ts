// Locates the shared models and data that tests run on (never copied into the repo).
// QUANTEVAL_SHARED_DIR overrides; the default is ../shared beside the repository root.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const sharedDir = resolve(process.env.QUANTEVAL_SHARED_DIR ?? join(repoRoot, "..", "shared"));

export function sharedPath(...parts: string[]): string {
  const p = join(sharedDir, ...parts);
  if (!existsSync(p)) throw new Error(`test data missing: ${p} (set QUANTEVAL_SHARED_DIR to the shared folder)`);
  return p;
}

export const models = {
  stories: () => sharedPath("models", "stories260K.gguf"),
  storiesVariant: (t: "f16" | "q8_0" | "q4_0") => sharedPath("models", "stories260K-variants", `stories260K-${t}.gguf`),
  tinyRandom: () => sharedPath("models", "llama-2-tiny-random.gguf"),
  model2vec: () => sharedPath("models", "model2vec-test"),
};
