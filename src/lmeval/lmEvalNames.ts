// File and folder names of lm-eval's --output_path layout (lm_eval/loggers/evaluation_tracker.py
// and lm_eval/utils.py): <output_path>/<sanitized model>/results_<date_id>.json and
// samples_<task>_<date_id>.jsonl.

/** lm-eval's sanitize_model_name: every run of `"<>:/|\?*[]` becomes "__". */
export function sanitizeModelName(name: string): string {
  return name.replace(/["<>:/|\\?*[\]]+/g, "__");
}

/**
 * lm-eval's date_id: `datetime.now().isoformat().replace(":", "-")`, local time with
 * microseconds (omitted by Python when zero), e.g. "2025-01-21T00-40-03.356274".
 */
export function lmEvalDateId(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
  const ms = d.getMilliseconds();
  return ms === 0 ? base : `${base}.${p(ms * 1000, 6)}`;
}

/** `results_<date_id>.json` */
export const resultsFileName = (dateId: string): string => `results_${dateId}.json`;

/** `samples_<task>_<date_id>.jsonl` */
export const samplesFileName = (task: string, dateId: string): string => `samples_${task}_${dateId}.jsonl`;

/** lm-eval's get_file_datetime: the part after the last "_", without .json/.jsonl. */
export function fileDateId(fileName: string): string {
  return fileName.slice(fileName.lastIndexOf("_") + 1).replace(/\.jsonl?$/, "");
}

/** lm-eval's get_file_task_name for samples files: between the first and the last "_". */
export function fileTaskName(fileName: string): string {
  return fileName.slice(fileName.indexOf("_") + 1, fileName.lastIndexOf("_"));
}
