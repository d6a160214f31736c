// Recipe choice under a size budget and size parsing: pure functions, literal inputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSize } from "../../src/cli/sensitivityCommand.js";
import { chooseRecipe } from "../../src/quantize/sensitivity/chooseRecipe.js";
import { QuantevalError } from "../../src/util/errors.js";

test("chooseRecipe: lowest summed KLD under the budget, exhaustively", () => {
  const groups = [
    { name: "a", kld: 0.05, lowBytes: -40, highBytes: 0 },
    { name: "b", kld: 0.01, lowBytes: -20, highBytes: 0 },
    { name: "c", kld: 0.015, lowBytes: -25, highBytes: 0 },
  ];
  assert.deepEqual(chooseRecipe(groups, 100, 100)?.low, []);
  assert.deepEqual(chooseRecipe(groups, 100, 60)?.low, ["b", "c"], "b+c saves 45 for 0.025; a alone saves 40 for 0.05");
  assert.deepEqual(chooseRecipe(groups, 100, 50)?.low, ["a", "b"], "saving 50 needs a");
  assert.equal(chooseRecipe(groups, 100, 10), undefined);
  assert.equal(parseSize("300K", "--max-size"), 300_000);
  assert.equal(parseSize("1.5MiB", "--max-size"), 1.5 * 1024 * 1024);
  assert.throws(() => parseSize("lots", "--max-size"), QuantevalError);
});
