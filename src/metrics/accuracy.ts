/**
 * Plain accuracy over per-item correctness flags.
 *
 * Each element counts as correct when it is `true` or a non-zero number
 * (so `0/1` arrays and boolean arrays both work).
 *
 * @param correct per-item correctness (`true`/`false` or `1`/`0`)
 * @returns fraction of correct items in [0, 1]
 * @throws RangeError when `correct` is empty (accuracy of nothing is undefined)
 */
export function accuracy(correct: ArrayLike<boolean | number>): number {
  const n = correct.length;
  if (n === 0) throw new RangeError("accuracy: no items");
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const v = correct[i];
    if (typeof v === "number" ? v !== 0 && !Number.isNaN(v) : v) hits++;
  }
  return hits / n;
}
