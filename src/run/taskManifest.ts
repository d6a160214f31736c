// The manifest facts every YAML-defined task records: which file, its hash, its source.
import { createHash } from "node:crypto";

export function taskManifest(task: { file: string; text: string; def: { source?: string } }): Record<string, unknown> {
  return {
    task_file: task.file,
    task_hash: createHash("sha256").update(task.text).digest("hex").slice(0, 16),
    source: task.def.source,
  };
}
