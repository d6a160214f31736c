// `quanteval sensitivity` on stories260K at q4_0 (its 64-wide rows fit q4_0's 32-blocks; the
// 172-wide ffn_down does not, and llama.cpp writes it as f16 — which the report must show).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { quantizeSweep } from "../../src/config/schema.js";
import { formatSensitivity } from "../../src/cli/sensitivityCommand.js";
import { analyzeSensitivity } from "../../src/quantize/sensitivity/sensitivity.js";
import { models, sharedPath } from "../helpers/shared.js";

const dir = mkdtempSync(join(tmpdir(), "quanteval-sensitivity-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("sensitivity of stories260K's groups at q4_0 and a measured recipe under 340 KB", async () => {
  const text = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8");
  const r = await analyzeSensitivity(models.stories(), { lowType: "q4_0", chunks: 4, nCtx: 128, threads: 2, text, where: "wikitext", outDir: dir, maxBytes: 340_000 });
  console.log(
    formatSensitivity(r)
      .split("\n")
      .map((l) => `# ${l}`)
      .join("\n"),
  );
  assert.equal(r.groups.length, 9, "7 block groups + token_embd + output");
  const down = r.groups.find((g) => g.group === "ffn_down")!;
  assert.deepEqual(down.low_written, { f16: 5 }, "172-wide rows fall back for q4_0 as for q8_0");
  assert.equal(down.bytes_saved, 0);
  for (const g of r.groups.filter((g) => g.group !== "ffn_down")) assert.ok(g.bytes_saved > 0 && g.kld_added > 0, `${g.group}: ${JSON.stringify(g)}`);
  assert.ok(r.proposal.measured_bytes <= 340_000, `written ${r.proposal.measured_bytes}`);
  assert.equal(r.proposal.estimated_bytes, r.proposal.measured_bytes, "sizes add up exactly: every group's saving was measured");
  const rel = Math.abs(r.proposal.measured_kld - r.proposal.predicted_kld) / r.proposal.measured_kld;
  console.log(`# additive prediction ${r.proposal.predicted_kld.toFixed(5)} vs measured ${r.proposal.measured_kld.toFixed(5)} (${(rel * 100).toFixed(1)}%)`);
  // The snippet is a runnable `variants:` block.
  const snippet = parse(r.snippet) as { variants: unknown };
  const sweep = quantizeSweep.parse(snippet.variants);
  assert.deepEqual(sweep.tensor_types, r.proposal.tensor_types);
  assert.ok(Object.keys(r.proposal.tensor_types).length > 0);
});
