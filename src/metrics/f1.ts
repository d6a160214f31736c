/**
 * Macro-averaged F1 with scikit-learn `f1_score(y_true, y_pred, average="macro")`
 * semantics, which is what lm-evaluation-harness's `f1` metric (e.g. KoBEST) reports.
 *
 * - The label set is the sorted union of the labels present in `gold` and `pred`
 *   (sklearn's `unique_labels`), so a label that is only ever predicted still counts.
 * - Per label the score is `2·tp / (n_gold + n_pred)`, the form sklearn (≥ 1.3) evaluates;
 *   it equals `2·P·R / (P + R)` and is 0 when tp = 0 (a label with zero precision and
 *   recall contributes 0 to the average).
 * - The macro score is the unweighted mean over labels.
 *
 * @param gold gold labels, one per item
 * @param pred predicted labels, same length as `gold`
 * @returns macro F1 in [0, 1]
 * @throws RangeError when lengths differ or the input is empty
 */
export function macroF1(gold: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = gold.length;
  if (pred.length !== n) throw new RangeError(`macroF1: gold has ${n} items, pred has ${pred.length}`);
  if (n === 0) throw new RangeError("macroF1: no items");
  // label -> [tp, goldCount, predCount]
  const counts = new Map<number, [number, number, number]>();
  const get = (label: number): [number, number, number] => {
    let c = counts.get(label);
    if (c === undefined) {
      c = [0, 0, 0];
      counts.set(label, c);
    }
    return c;
  };
  for (let i = 0; i < n; i++) {
    const g = gold[i];
    const p = pred[i];
    get(g)[1]++;
    get(p)[2]++;
    if (g === p) get(g)[0]++;
  }
  const labels = [...counts.keys()].sort((a, b) => a - b);
  let sum = 0;
  for (const label of labels) {
    const [tp, nGold, nPred] = counts.get(label)!;
    sum += tp === 0 ? 0 : (2 * tp) / (nGold + nPred);
  }
  return sum / labels.length;
}
