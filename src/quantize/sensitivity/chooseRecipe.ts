// Chooses which tensor groups go to the low type: the set with the lowest predicted KLD (the
// sum of each group's own KLD when it alone is low — an additive approximation, checked by
// measuring the proposed recipe) whose estimated size fits the budget.

export interface GroupCost {
  name: string;
  /** KLD when only this group is at the low type. */
  kld: number;
  /** Bytes of the group at the low type and at the high type. */
  lowBytes: number;
  highBytes: number;
}

export interface RecipeChoice {
  /** Groups put at the low type. */
  low: string[];
  predictedKld: number;
  estimatedBytes: number;
}

/** Brute force up to this many groups (2^16 subsets); greedy beyond. */
const EXHAUSTIVE_MAX = 16;

/**
 * The lowest-KLD choice with `fixedBytes + Σ group bytes ≤ budget`, or undefined when even every
 * group at the low type does not fit.
 */
export function chooseRecipe(groups: GroupCost[], fixedBytes: number, budget: number): RecipeChoice | undefined {
  const evaluate = (mask: (i: number) => boolean): RecipeChoice => {
    let kld = 0;
    let bytes = fixedBytes;
    const low: string[] = [];
    groups.forEach((g, i) => {
      if (mask(i)) {
        kld += g.kld;
        bytes += g.lowBytes;
        low.push(g.name);
      } else bytes += g.highBytes;
    });
    return { low, predictedKld: kld, estimatedBytes: bytes };
  };
  let best: RecipeChoice | undefined;
  const better = (c: RecipeChoice) => c.estimatedBytes <= budget && (!best || c.predictedKld < best.predictedKld || (c.predictedKld === best.predictedKld && c.estimatedBytes < best.estimatedBytes));
  if (groups.length <= EXHAUSTIVE_MAX) {
    for (let m = 0; m < 1 << groups.length; m++) {
      const c = evaluate((i) => ((m >> i) & 1) === 1);
      if (better(c)) best = c;
    }
    return best;
  }
  // Greedy: lower the groups with the least KLD per byte saved until the budget is met.
  const order = groups.map((g, i) => ({ i, rate: g.kld / Math.max(1, g.highBytes - g.lowBytes) })).sort((a, b) => a.rate - b.rate);
  const chosen = new Set<number>();
  for (const { i } of order) {
    const c = evaluate((j) => chosen.has(j));
    if (c.estimatedBytes <= budget) return c;
    chosen.add(i);
  }
  const all = evaluate(() => true);
  return all.estimatedBytes <= budget ? all : undefined;
}
