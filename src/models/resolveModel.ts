// Resolves a model reference: a local path (already resolved beside the config when the config
// loaded; else relative to the working directory), a bare file name under
// the models directory, or an `hf:<org>/<repo>/<file>` URI looked up under the models
// directory (by full path, then by file name) and downloaded when online and absent.
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { createWriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { modelsDir } from "../data/dataDirs.js";
import { resolveLocalPath } from "../data/resolveDataset.js";
import { QuantevalError } from "../util/errors.js";

/** The local file of a model reference; `modelsDir` is absolute (the config's models_dir resolved beside it). */
export async function resolveModel(ref: string, opts: { modelsDir?: string; field: string }): Promise<string> {
  const dir = modelsDir(opts.modelsDir);
  if (ref.startsWith("hf:")) {
    const rest = ref.slice(3);
    const parts = rest.split("/");
    if (parts.length < 3) throw new QuantevalError(`${opts.field}: '${ref}' is not an hf: model URI; use hf:<org>/<repo>/<path/to/file.gguf>`);
    const local = [join(dir, rest), join(dir, basename(rest))].find((p) => existsSync(p));
    if (local) return local;
    if (process.env.HF_HUB_OFFLINE === "1") throw new QuantevalError(`${opts.field}: ${ref} is not under ${dir} and HF_HUB_OFFLINE=1; place the file there or set QUANTEVAL_MODELS_DIR`);
    const [org, repo, ...file] = parts;
    const url = `https://huggingface.co/${org}/${repo}/resolve/main/${file.join("/")}`;
    const target = join(dir, rest);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      mkdirSync(dirname(target), { recursive: true });
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(`${target}.part`));
      renameSync(`${target}.part`, target);
      return target;
    } catch (e) {
      throw new QuantevalError(`${opts.field}: ${ref} is not under ${dir} and downloading it failed (${(e as Error).message}); place the file there or set QUANTEVAL_MODELS_DIR`);
    }
  }
  const local = resolveLocalPath(ref) ?? [join(dir, ref)].find((p) => existsSync(p));
  if (!local) throw new QuantevalError(`${opts.field}: model file not found: ${ref} (looked beside the config, in the working directory and in ${dir}); fix the path or set QUANTEVAL_MODELS_DIR`);
  return local;
}
