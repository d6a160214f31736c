// llama.cpp's HellaSwag and Winogrande modes evaluated chunk by chunk (issue 14: memory flat in
// dataset size): on 20 tasks of each built from WikiText-2 test lines (there is no HellaSwag or
// Winogrande file offline; the files are written in llama.cpp's formats and read by its parsers)
// with stories260K, the chunked evaluation written to the store gives the same correctness, counts
// and sample rows as the tasks scored whole, and a run stopped in its third chunk resumes with the
// finished chunks read back and only the rest evaluated. The chunks read their tasks back from
// the data file (a run holds only where the selected tasks are): the tasks read back equal those
// parsed and selected in memory, and a file changed during the run is refused.
import assert from "node:assert/strict";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Backend } from "../../src/backends/backend.js";
import { openBackend } from "../../src/backends/openBackend.js";
import type { ModelSpec } from "../../src/config/schema.js";
import { putChunkedEvaluation, storeChunks, storedEvaluations } from "../../src/run/evaluationStore.js";
import { silentProgress } from "../../src/run/taskContext.js";
import { RunStore } from "../../src/store/runStore.js";
import { evaluateLlamacppChunks, hellaswagMode, indexTasks, type LlamacppMode, winograndeMode } from "../../src/tasks/kinds/llamacppChunks.js";
import { decodeCorrect, encodeCorrect } from "../../src/tasks/llamacpp/correctColumn.js";
import { parseHellaswagFile, scoreHellaswag, selectHellaswagTasks } from "../../src/tasks/llamacpp/hellaswag.js";
import { selectLlamacppTasks } from "../../src/tasks/llamacpp/data.js";
import type { TaskSource } from "../../src/tasks/llamacpp/taskFile.js";
import { parseWinograndeCsv, scoreWinogrande, selectWinograndeTasks } from "../../src/tasks/llamacpp/winogrande.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";
import { stoppingAt } from "../helpers/stoppingSink.js";

/** WikiText-2 body lines of at least 20 words, as word lists (commas, quotes and '_' dropped: the CSV keeps its columns). */
const lines = readFileSync(sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw"), "utf8")
  .split("\n")
  .map((l) => l.trim().replace(/[,"_]/g, ""))
  .filter((l) => l.split(" ").length >= 20 && !l.startsWith("="))
  .slice(0, 40)
  .map((l) => l.split(" "));

/** 20 HellaSwag tasks: the first 12 words of a line, its next 4 words as the gold ending among 3 other lines' (llama.cpp's text format). */
const hellaswagText = Array.from({ length: 20 }, (_, i) => {
  const endings = [1, 2, 3].map((k) => lines[(i + 7 * k) % lines.length].slice(12, 16).join(" "));
  endings.splice(i % 4, 0, lines[i].slice(12, 16).join(" "));
  return [lines[i].slice(0, 12).join(" "), String(i % 4), ...endings].join("\n");
}).join("\n");

/**
 * 20 Winogrande tasks (llama.cpp's CSV, header and an unread last line): a line's first 15 words
 * with one blanked, that word and another line's as the options. Every third blank is near the
 * end, the case where llama.cpp scores from the common prefix (with its FIXME).
 */
const winograndeCsv = [
  "index,sentence,option1,option2,answer",
  ...Array.from({ length: 21 }, (_, i) => {
    const w = lines[i].slice(0, 15);
    const at = i % 3 === 0 ? 13 : 6;
    const other = lines[(i + 11) % lines.length][at];
    const options = i % 2 === 0 ? [w[at], other] : [other, w[at]];
    return `${i},${[...w.slice(0, at), "_", ...w.slice(at + 1)].join(" ")}.,${options.join(",")},${1 + (i % 2)}`;
  }),
].join("\n");

/** The files as llama.cpp reads them, in a temporary folder. */
const dir = tempDir();
const hellaswagFile = join(dir, "hellaswag.txt");
const winograndeFile = join(dir, "winogrande.csv");
writeFileSync(hellaswagFile, hellaswagText);
writeFileSync(winograndeFile, winograndeCsv);

const all = <D>(source: TaskSource<D>): D[] => Array.from({ length: source.length }, (_, i) => source.render(i));

test("the selected tasks read back from the data file equal those parsed and selected in memory; a file changed since is refused", () => {
  // With a BOM and CRLF endings too (both kept as readUtf8 and llama.cpp's getline see them).
  const variants: Array<[string, string]> = [
    ["", hellaswagText],
    ["\uFEFF", `${hellaswagText.replaceAll("\n", "\r\n")}\n`],
  ];
  for (const [bom, text] of variants) {
    const file = join(dir, "hs-variant.txt");
    writeFileSync(file, bom + text);
    for (const n of [0, 1, 7, 20, 25]) {
      assert.deepEqual(all(selectLlamacppTasks(file, "llamacpp_hellaswag", n).hellaswag!), selectHellaswagTasks(parseHellaswagFile(text, file), n), `HellaSwag, ${n} tasks`);
    }
  }
  const { items } = parseWinograndeCsv(winograndeCsv);
  for (const n of [0, 1, 5, 19, 20]) assert.deepEqual(all(selectLlamacppTasks(winograndeFile, "llamacpp_winogrande", n).winogrande!), selectWinograndeTasks(items, n), `Winogrande, ${n} tasks`);

  const file = join(dir, "changed.csv");
  writeFileSync(file, winograndeCsv);
  const tasks = selectLlamacppTasks(file, "llamacpp_winogrande", 0).winogrande!;
  writeFileSync(file, winograndeCsv.replace("0,", "9,"));
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.throws(() => tasks.render(0), /changed during the run/);
});

/** Chunked against whole for one mode: `whole` are the sample rows and correctness of the tasks scored at once. */
async function chunkedEqualsWhole<D, Q, A>(
  b: Backend,
  kind: string,
  items: TaskSource<D>,
  mode: LlamacppMode<D, Q, A>,
  whole: { rows: unknown[]; correct: boolean[]; approximated: number },
): Promise<void> {
  const store = RunStore.open(tempDir(), { configHash: `${kind}-chunks-test` });
  try {
    const tasks = indexTasks(items, kind, 6);
    assert.deepEqual(
      tasks.chunks.map((c) => [c.from, c.to, c.requests]),
      [
        [0, 6, 6],
        [6, 12, 6],
        [12, 18, 6],
        [18, 20, 2],
      ],
    );
    const env = { name: kind, store, progress: silentProgress, warn: () => {} };

    // A run stopped while writing its third chunk (its requests are cached, the chunk is not recorded).
    await assert.rejects(evaluateLlamacppChunks(tasks, mode, b, env, stoppingAt(storeChunks(store, kind, "f32"), 3)), /stopped/);
    assert.deepEqual(store.counters, { cached: 0, computed: 18 });

    // Resumed: chunks 1–2 from their records, chunk 3 from the request cache, only chunk 4 computed.
    const chunks = storeChunks(store, kind, "f32");
    const { correct, approximated } = await evaluateLlamacppChunks(tasks, mode, b, env, chunks);
    assert.deepEqual(store.counters, { cached: 18, computed: 20 });
    assert.equal(chunks.end, 20);

    assert.deepEqual(decodeCorrect(encodeCorrect(correct)), whole.correct, "the same correctness as scored whole");
    assert.equal(approximated, whole.approximated, "approximated tasks counted over stored and fresh chunks");
    putChunkedEvaluation(store, kind, "f32", { results: {}, state: encodeCorrect(correct) }, chunks);
    assert.deepEqual(storedEvaluations(store, kind).get("f32").samples, whole.rows, "the sample rows the whole evaluation wrote");
  } finally {
    store.close("done");
  }
}

test("chunked llama.cpp HellaSwag and Winogrande equal the whole evaluation, and resume only the chunks a stopped run did not finish", async () => {
  const b = await openBackend({ name: "f32", model: models.stories() } as ModelSpec, models.stories());
  await b.describe();
  try {
    const hs = selectHellaswagTasks(parseHellaswagFile(hellaswagText, "hs"), 20);
    const hsScores = await scoreHellaswag(b, hs, "hs");
    assert.ok(hsScores.some((s) => s.correct) && hsScores.some((s) => !s.correct), "both outcomes occur");
    await chunkedEqualsWhole(b, "llamacpp_hellaswag", selectLlamacppTasks(hellaswagFile, "llamacpp_hellaswag", 20).hellaswag!, hellaswagMode("hs"), {
      // The rows as the whole evaluation wrote them (llamacpp.ts before chunking).
      rows: hsScores.map((s, i) => ({ doc_id: hs[i].index, context: hs[i].context, choices: hs[i].endings, scores: s.scores, n_tokens: s.n_tokens, pred: s.pred, gold: s.gold, correct: s.correct })),
      correct: hsScores.map((s) => s.correct),
      approximated: 0,
    });

    const { items: wg } = parseWinograndeCsv(winograndeCsv);
    assert.equal(wg.length, 20);
    const wgScores = await scoreWinogrande(b, wg);
    assert.ok(wgScores.some((s) => s.correct) && wgScores.some((s) => !s.correct), "both outcomes occur");
    await chunkedEqualsWhole(b, "llamacpp_winogrande", selectLlamacppTasks(winograndeFile, "llamacpp_winogrande", 0).winogrande!, winograndeMode, {
      rows: wgScores.map((s, i) => ({
        doc_id: wg[i].line,
        sentence: `${wg[i].first}_${wg[i].second}`,
        choices: wg[i].choices,
        scores: [s.score1, s.score2],
        pred: s.pred,
        gold: s.answer,
        correct: s.correct,
      })),
      correct: wgScores.map((s) => s.correct),
      approximated: wgScores.filter((s) => s.approximated).length,
    });
  } finally {
    await b.dispose();
  }
});
