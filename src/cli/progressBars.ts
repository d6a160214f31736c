// Progress bars for long work: cli-progress on a TTY, one line per finished step otherwise.
import cliProgress from "cli-progress";
import type { ProgressSink } from "../run/taskContext.js";

export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink & { close(): void } {
  if (!stream.isTTY) {
    const totals = new Map<string, [string, number, string?]>();
    return {
      start: (id, label, total) => void totals.set(id, [label, total]),
      update: (id, _d, total, note) => {
        const t = totals.get(id);
        if (t && total !== undefined) t[1] = total;
        if (t && note) t[2] = note;
      },
      stop: (id) => {
        const t = totals.get(id);
        if (t) stream.write(`done: ${t[0]} (${t[1]}${t[2] ? `, ${t[2]}` : ""})\n`);
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
