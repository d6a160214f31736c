// One rendered example of any task type, for `quanteval tasks show NAME`: the exact request
// strings of the first document, JSON-quoted so every space is visible.
import { dirname } from "node:path";
import { prepareLlamacpp } from "./llamacpp/data.js";
import { prepareLoglikelihood } from "./loglikelihood.js";
import { prepareMultipleChoice } from "./multipleChoice.js";
import { prepareRolling } from "./rolling.js";
import type { TaskDefinition } from "./taskDefinition.js";

export interface ExampleOptions {
  /** Where dataset ids and llama.cpp data files are looked up. */
  dataDir?: string;
  /** A data file overriding the task's own (the config's `data`). */
  data?: string;
}

const q = (s: string) => JSON.stringify(s);

/** The lines describing document 0 of the task. Throws QuantevalError when its data is absent. */
export async function renderExample(task: { def: TaskDefinition; file: string }, opts: ExampleOptions): Promise<string[]> {
  const def = task.def;
  const base = { taskDir: dirname(task.file), dataDir: opts.dataDir, data: opts.data, seed: 1234, limit: 1 };
  switch (def.type) {
    case "multiple_choice": {
      const [doc] = await prepareMultipleChoice(def, base);
      const partial = def.doc_to_continuation !== undefined;
      const lines = partial ? [] : [`context: ${q(doc.context)}`];
      doc.choices.forEach((_, i) => {
        const r = doc.requests[i];
        const gold = i === doc.gold ? " (gold)" : "";
        lines.push(partial ? `choice ${i}${gold}: context ${q(r.context)} continuation ${q(r.continuation)}` : `choice ${i}${gold}: ${q(r.continuation)}`);
      });
      if (doc.unconditional) lines.push(`+ ${doc.choices.length} unconditional requests (context "") for acc_mutual_info`);
      return lines;
    }
    case "loglikelihood": {
      const [doc] = await prepareLoglikelihood(def, base);
      return [`context: ${q(doc.request.context)}`, `continuation: ${q(doc.request.continuation)}`];
    }
    case "rolling": {
      const [doc] = await prepareRolling(def, base);
      const head = doc.text.length > 400 ? `${doc.text.slice(0, 400)}…` : doc.text;
      return [`text (${doc.text.length} chars, ${doc.words} words, ${doc.bytes} bytes counted): ${q(head)}`];
    }
    case "llamacpp_hellaswag":
    case "llamacpp_winogrande": {
      const prep = prepareLlamacpp({ dataDir: opts.dataDir, spec: { data: opts.data }, name: def.task, limit: 1 }, { def, file: task.file });
      if (prep.hellaswag) {
        const t = prep.hellaswag.render(0);
        return [`task ${t.index} (first selected)`, ...t.endings.map((e, i) => `sequence ${i}${i === t.gold ? " (gold)" : ""}: ${q(`${t.context} ${e}`)}`)];
      }
      const t = prep.winogrande!.render(0);
      return [`line ${t.line}`, ...t.choices.map((c, i) => `sequence ${i + 1}${i + 1 === t.answer ? " (gold)" : ""}: ${q(t.first + c + t.second)}`)];
    }
  }
}
