// Opens the embedders a generate task lists (their local paths were resolved when the config loaded).
import { createEmbedder } from "../../embedders/createEmbedder.js";
import type { Embedder } from "../../embedders/embedder.js";
import { GgufEmbedder } from "../../embedders/ggufEmbedder.js";
import { resolveLocalPath } from "../../data/resolveDataset.js";
import { QuantevalError } from "../../util/errors.js";
import type { EmbedderEntry } from "./spec.js";

/**
 * One embedder per entry, in order; ids are made unique (`#2`, …) when two entries share one.
 * Errors are one line naming `embedders[i]`. The caller disposes the embedders.
 */
export async function openEmbedders(entries: EmbedderEntry[], taskName: string): Promise<Embedder[]> {
  const out: Embedder[] = [];
  const ids = new Set<string>();
  try {
    for (const [i, e] of entries.entries()) {
      const where = `task '${taskName}': embedders[${i}]`;
      let path: string | undefined;
      if (e.kind !== "http") {
        if (!e.path) throw new QuantevalError(`${where}: kind '${e.kind}' needs 'path' (a local model ${e.kind === "gguf" ? "file" : "folder"})`);
        path = resolveLocalPath(e.path);
        if (!path) throw new QuantevalError(`${where}: path '${e.path}' not found (looked beside the config and in the working directory)`);
      }
      let emb: Embedder;
      try {
        // gguf is handled here until createEmbedder knows it.
        emb = e.kind === "gguf" ? await GgufEmbedder.load(path!, { threads: e.threads }) : await createEmbedder({ ...e, path });
      } catch (err) {
        throw new QuantevalError(`${where}: ${(err as Error).message.split("\n")[0]}`);
      }
      let id = emb.id;
      for (let k = 2; ids.has(id); k++) id = `${emb.id}#${k}`;
      ids.add(id);
      out.push(id === emb.id ? emb : { id, embed: (t) => emb.embed(t), dispose: emb.dispose?.bind(emb) });
    }
    return out;
  } catch (e) {
    for (const emb of out) await emb.dispose?.().catch(() => undefined);
    throw e;
  }
}
