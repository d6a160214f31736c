// An imatrix fits a model when every entry names one of its weight tensors with the same
// input width (and expert count); otherwise it was made for another model, and quantizing
// with it would be silently wrong or fail deep inside llama.cpp.
import { QuantevalError } from "../../util/errors.js";
import type { TensorRow } from "../writtenTensors.js";
import type { ImatrixData } from "./imatrixData.js";

/** Throws a one-line QuantevalError naming `file` when `data` does not fit `tensors`. */
export function checkImatrixFits(data: ImatrixData, tensors: TensorRow[], file: string, model: string): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const [name, e] of data.entries) {
    const t = byName.get(name);
    if (!t) throw new QuantevalError(`imatrix ${file} was made for another model: ${model} has no tensor ${name}; make one for this model with 'quanteval imatrix'`);
    const nMat = (t.dims[2] ?? 1) * (t.dims[3] ?? 1);
    if (t.dims[0] !== e.ne0 || (e.nMat !== 1 && e.nMat !== nMat)) {
      throw new QuantevalError(
        `imatrix ${file} was made for another model: ${name} has ${e.ne0} columns × ${e.nMat} there but ${t.dims[0]} × ${nMat} in ${model}; make one for this model with 'quanteval imatrix'`,
      );
    }
  }
}
