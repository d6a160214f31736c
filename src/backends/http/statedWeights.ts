// The weights an HTTP model's config states (`sha256:` and/or `file:`), merged with what the
// server itself revealed (an absolute /props model_path readable here, see detect.ts
// localWeights). A remote server, or one started with a relative -m path, reveals no file, so
// only the config can say which weights it serves; then the same weights loaded in-process and
// served over HTTP are still recognised as one model (src/report/verdict.ts).
import { resolve } from "node:path";
import { QuantevalError } from "../../util/errors.js";
import { localWeights } from "./detect.js";

/** Digest of the served weights and, when a file was read, its size. */
export interface ServedWeights {
  sha256: string;
  file_bytes?: number;
}

export interface StatedWeights {
  /** `sha256:` from the config: 64 hex digits. */
  sha256?: string;
  /** `file:` from the config: a local copy of the served GGUF. */
  file?: string;
}

const SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * The served weights: the stated file's digest and size, else the stated digest, else what the
 * server revealed. Every stated value must agree with every other one, so a config naming the
 * wrong file or digest fails at open instead of pairing unrelated models.
 */
export async function servedWeights(label: string, stated: StatedWeights, revealed: ServedWeights | undefined, tensorBytes: number | undefined): Promise<ServedWeights | undefined> {
  let sha = stated.sha256;
  if (sha !== undefined) {
    if (!SHA256.test(sha)) throw new QuantevalError(`${label}: sha256 ${JSON.stringify(sha)} is not 64 hex digits; give the GGUF's sha256 as sha256sum prints it`);
    sha = sha.toLowerCase();
  }
  let fromFile: ServedWeights | undefined;
  if (stated.file !== undefined) {
    fromFile = await localWeights(resolve(stated.file), tensorBytes);
    if (!fromFile)
      throw new QuantevalError(
        `${label}: file ${JSON.stringify(stated.file)} is not a readable GGUF at least as large as the served tensors (${tensorBytes ?? "?"} bytes); give the path of a local copy of the served weights`,
      );
    if (sha !== undefined && fromFile.sha256 !== sha) throw new QuantevalError(`${label}: sha256 ${sha} differs from the sha256 of file ${stated.file} (${fromFile.sha256}); fix one of them`);
  }
  const mine = fromFile ?? (sha !== undefined ? { sha256: sha, file_bytes: revealed?.sha256 === sha ? revealed.file_bytes : undefined } : undefined);
  if (mine && revealed && revealed.sha256 !== mine.sha256)
    throw new QuantevalError(
      `${label}: the server serves weights with sha256 ${revealed.sha256}, not the ${fromFile ? `file ${stated.file}` : "sha256"} the config states (${mine.sha256}); fix sha256/file`,
    );
  return mine ?? revealed;
}
