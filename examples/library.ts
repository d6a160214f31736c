// Using quanteval as a library: load a config, run it, read typed numbers from the results.
//   npm run example            (CI runs it; it is typechecked by npm run typecheck)
// It imports only the public API (src/index.ts, which the package exports as "quanteval").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, QuantevalError, runEvaluation } from "../src/index.js";

/** A metric read from results.json; throws if the run did not produce it as a number. */
// TODO(lead): once the typed results schema (src/results/) is merged, `copa.results.f32.acc` is a
// number after narrowing on `copa.type`, and this guard can go.
function metric(value: unknown, what: string): number {
  if (typeof value !== "number") throw new Error(`${what}: expected a number, got ${JSON.stringify(value)}`);
  return value;
}

const config = loadConfig(join(dirname(fileURLToPath(import.meta.url)), "library.yaml"));
const out = mkdtempSync(join(tmpdir(), "quanteval-example-"));
try {
  const results = await runEvaluation(config, { out, onWarning: (m) => console.warn(`warning: ${m}`) });

  const copa = results.tasks.kobest_copa;
  if (copa.type !== "multiple_choice") throw new Error(`kobest_copa ran as ${copa.type}`);
  const accF32 = metric(copa.results.f32.acc, "f32 acc");
  const accQ4 = metric(copa.results.q4_0.acc, "q4_0 acc");
  const delta = copa.comparisons.q4_0.acc as { delta: number; ci_low: number; ci_high: number; mcnemar_p: number };
  console.log(`kobest_copa acc: f32 ${accF32.toFixed(3)}, q4_0 ${accQ4.toFixed(3)}`);
  console.log(`  q4_0 − f32: ${delta.delta.toFixed(3)} [${delta.ci_low.toFixed(3)}, ${delta.ci_high.toFixed(3)}], McNemar p ${delta.mcnemar_p.toFixed(3)}`);

  const ppl = results.tasks.perplexity;
  const kld = metric(ppl.comparisons.q4_0.kld_mean, "q4_0 kld_mean");
  console.log(`perplexity: f32 ${metric(ppl.results.f32.ppl, "f32 ppl").toFixed(3)}, q4_0 ${metric(ppl.results.q4_0.ppl, "q4_0 ppl").toFixed(3)}, KLD ${kld.toFixed(5)} nats`);
  console.log(`requests: ${results.requests.computed} computed, ${results.requests.cached} from the cache`);

  // The numbers a caller would act on: they must be real probabilities and divergences.
  if (!(accF32 >= 0 && accF32 <= 1 && accQ4 >= 0 && accQ4 <= 1 && kld >= 0)) throw new Error("example: metrics out of range");
} catch (e) {
  // Bad input is a QuantevalError with a one-line message; anything else is a bug worth its stack.
  console.error(e instanceof QuantevalError ? `error: ${e.message}` : e);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
