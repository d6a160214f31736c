// The model card of a GGUF model, from llama.cpp's view of its metadata.
import { statSync } from "node:fs";
import type { ModelDescription } from "../backend.js";
import { type LlamaLib, type LlamaModel, cString } from "../llamaLib.js";
import type { GgufVocab } from "./vocab.js";

/** Reads a metadata string value, or undefined when the key is absent. */
function metaString(lib: LlamaLib, model: LlamaModel, key: string): string | undefined {
  const buf = new Uint8Array(512);
  const n = lib.model_meta_val_str(model, key, buf, buf.length);
  return n < 0 ? undefined : cString(buf, n);
}

/** The model-card table of a loaded model; `sha256` is the file's digest. */
export function describeGguf(lib: LlamaLib, model: LlamaModel, vocab: GgufVocab, at: { name: string; path: string; sha256: string }): ModelDescription {
  const params = Number(lib.model_n_params(model));
  const size = Number(lib.model_size(model));
  const ftype = lib.model_ftype(model);
  const ftypeName = lib.ftype_name(ftype) ?? String(ftype);
  return {
    name: at.name,
    backend: "gguf",
    path: at.path,
    sha256: at.sha256,
    file_bytes: statSync(at.path).size,
    params,
    quantization: ftypeName
      .replace(/^\(guessed\)\s*/, "")
      .replace(/^(all|mostly)\s+/i, "")
      .toUpperCase(),
    bits_per_weight: params > 0 ? (size * 8) / params : undefined,
    architecture: metaString(lib, model, "general.architecture"),
    n_layer: lib.model_n_layer(model),
    n_head: lib.model_n_head(model),
    n_head_kv: lib.model_n_head_kv(model),
    n_embd: lib.model_n_embd(model),
    n_vocab: vocab.nVocab,
    n_ctx_train: lib.model_n_ctx_train(model),
    vocab_hash: vocab.hash(),
    add_bos: vocab.addBos,
  };
}
