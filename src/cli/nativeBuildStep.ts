// Before the first GGUF model opens: build llama.cpp for this CPU once (cached), with a progress bar.
import { backendKind } from "../backends/openBackend.js";
import { ensureNativeLibrary } from "../backends/nativeLibrary.js";
import type { ModelSpec } from "../config/schema.js";
import type { ProgressSink } from "../run/taskContext.js";

/** Builds the native llama.cpp library when a GGUF model is in the run; prints its one-line note when the prebuilt one runs instead. */
export async function nativeBuildStep(models: ModelSpec[], progress: ProgressSink): Promise<void> {
  const gguf = models.some((m) => {
    try {
      return backendKind(m) === "gguf";
    } catch {
      return false; // reported with its fix when the model is opened
    }
  });
  if (!gguf) return;
  let started = false;
  const status = await ensureNativeLibrary((percent) => {
    if (!started) progress.start("native-build", "building llama.cpp for this CPU (once; QUANTEVAL_NATIVE_BUILD=0 skips)", 100);
    started = true;
    progress.update("native-build", percent);
  });
  if (started) progress.stop("native-build");
  if (status.note) process.stderr.write(`note: ${status.note}\n`);
}
