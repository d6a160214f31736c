// Progress bars for long work: cli-progress on a TTY, one line per finished step otherwise.
import cliProgress from "cli-progress";
import type { ProgressSink } from "../run/taskContext.js";

export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink & { close(): void } {
  if (!stream.isTTY) {
    const steps = new Map<string, { label: string; done: number; total: number; note?: string }>();
    return {
      start: (id, label, total) => void steps.set(id, { label, done: 0, total }),
      update: (id, done, total, note) => {
        const t = steps.get(id);
        if (!t) return;
        t.done = done;
        if (total !== undefined) t.total = total;
        if (note) t.note = note;
      },
      stop: (id) => {
        const t = steps.get(id);
        if (!t) return;
        const note = t.note ? `, ${t.note}` : "";
        // A step stopped early (Ctrl-C, SIGTERM, an error) says how far it got rather than "done".
        if (t.done < t.total) stream.write(`stopped: ${t.label} (${t.done} of ${t.total}${note})\n`);
        else stream.write(`done: ${t.label} (${t.total}${note})\n`);
      },
      close: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    { stream, clearOnComplete: false, hideCursor: true, format: " {bar} {percentage}% | {value}/{total} | {label}{note} | eta {eta_formatted}" },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    start: (id, label, total) => void bars.set(id, multi.create(total, 0, { label, note: "" })),
    update: (id, done, total, note) => {
      const b = bars.get(id);
      if (!b) return;
      if (total !== undefined) b.setTotal(total);
      b.update(done, note ? { note: ` · ${note}` } : {});
    },
    stop: (id) => {
      bars.get(id)?.stop();
    },
    close: () => multi.stop(),
  };
}
