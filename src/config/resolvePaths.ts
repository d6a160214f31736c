// Every path a config names is resolved here, once, when the config loads: the layers below
// receive absolute paths and never a base directory.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { dataDir, modelsDir } from "../data/dataDirs.js";
import { resolveLocalPath } from "../data/resolveDataset.js";
import type { PathResolver } from "../tasks/kinds/taskKind.js";
import type { ModelSpec, RunConfig } from "./schema.js";

/** The folders a config's relative paths resolve against, all absolute. */
export interface ConfigDirs {
  /** The config file's folder. */
  configDir: string;
  /** `data_dir` beside the config, else QUANTEVAL_DATA_DIR, else ~/.cache/quanteval/datasets. */
  dataDir: string;
  /** `models_dir` beside the config, else QUANTEVAL_MODELS_DIR, else ~/.cache/quanteval/models. */
  modelsDir: string;
}

/** data_dir and models_dir both resolve beside the config file. */
export function configDirs(config: Pick<RunConfig, "data_dir" | "models_dir">, configDir: string): ConfigDirs {
  return {
    configDir,
    dataDir: dataDir(config.data_dir === undefined ? undefined : resolve(configDir, config.data_dir)),
    modelsDir: modelsDir(config.models_dir === undefined ? undefined : resolve(configDir, config.models_dir)),
  };
}

/** Resolves data (config dir, working directory, data dir), files (config dir, working directory) and models (… models dir); unchanged when not found. */
export function pathResolver(dirs: ConfigDirs): PathResolver {
  return {
    data: (p) => resolveLocalPath(p, dirs.configDir) ?? resolveLocalPath(p, dirs.dataDir) ?? p,
    file: (p) => resolveLocalPath(p, dirs.configDir) ?? p,
    model: (p) => {
      if (p.startsWith("hf:")) return p;
      const local = resolveLocalPath(p, dirs.configDir);
      if (local) return local;
      const under = join(dirs.modelsDir, p);
      return existsSync(under) ? under : p;
    },
  };
}

/** A model spec with its local model path resolved (HTTP models have none). */
export function resolveModelSpec<S extends ModelSpec>(spec: S, paths: PathResolver): S {
  // An HTTP model's `model` is the server's model name, not a path.
  const isHttp = spec.backend === "http" || (!spec.backend && spec.base_url !== undefined);
  const withLmEval = spec.lm_eval ? { ...spec, lm_eval: paths.file(spec.lm_eval) } : spec;
  const withFile = isHttp && spec.file ? { ...withLmEval, file: paths.model(spec.file) } : withLmEval;
  return spec.model && !isHttp ? { ...withFile, model: paths.model(spec.model) } : withFile;
}
