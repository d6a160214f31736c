// Why the llama-perplexity cross-checks were flaky under load, and the fix: llama.cpp's common
// logger (common/log.cpp) queues every line for a background thread and deliberately never
// destroys that thread, so lines still queued when main() returns are lost at exit (the final
// figures come last). The tests run llama.cpp tools with a preload (test/helpers/logflush.c)
// that, at exit, waits until the logger thread is idle in its wait after the last line was
// queued. Shown here on a miniature of that logger compiled from C++ (the same std::thread +
// condition_variable queue, never joined) and, when built, on llama-perplexity itself.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { llamaTool, runLlamaTool } from "../helpers/llamaBin.js";
import { logFlushPreload } from "../helpers/logFlush.js";
import { tempDir } from "../helpers/runConfig.js";
import { models, sharedPath } from "../helpers/shared.js";

const MINI_LOGGER = `
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
struct Log {
  std::mutex m; std::condition_variable cv; std::deque<std::string> q; std::thread t;
  Log() { t = std::thread([this] { for (;;) { std::unique_lock<std::mutex> l(m); cv.wait(l, [this] { return !q.empty(); }); auto s = q.front(); q.pop_front(); l.unlock(); fputs(s.c_str(), stdout); fflush(stdout); } }); }
  void add(std::string s) { std::lock_guard<std::mutex> l(m); q.push_back(s); cv.notify_one(); }
};
int main() { static Log *log = new Log; for (int i = 0; i < 2000; i++) log->add("line " + std::to_string(i) + "\\n"); log->add("FINAL\\n"); return 0; }
`;

function compileMiniLogger(): string | undefined {
  const dir = tempDir();
  writeFileSync(join(dir, "mini.cpp"), MINI_LOGGER);
  try {
    execFileSync("c++", ["-O2", "-o", join(dir, "mini"), join(dir, "mini.cpp"), "-lpthread"], { stdio: "pipe" });
    return join(dir, "mini");
  } catch {
    return undefined;
  }
}

const mini = compileMiniLogger();
const preload = logFlushPreload();

test("an asynchronous logger that is never joined loses its last lines at exit; with the preload none are lost", { skip: !mini ? "no C++ compiler" : (preload.reason ?? false) }, () => {
  const runs = 40;
  let lostWithout = 0;
  for (let i = 0; i < runs; i++) if (!spawnSync(mini!, { encoding: "utf8" }).stdout.endsWith("FINAL\n")) lostWithout++;
  for (let i = 0; i < runs; i++) {
    const out = runLlamaTool(mini!, []).stdout;
    assert.ok(out.endsWith("FINAL\n"), `run ${i}: the last line was lost (${out.split("\n").length - 1} of 2001 lines)`);
    assert.equal(out.split("\n").length - 1, 2001);
  }
  console.log(`# without the preload the last line was lost in ${lostWithout} of ${runs} runs`);
});

const ppl = llamaTool("llama-perplexity");
test("llama-perplexity's final figures are always in its output", { skip: ppl.reason ?? preload.reason ?? false }, () => {
  for (let i = 0; i < 5; i++) {
    const r = runLlamaTool(ppl.path!, ["-t", "1", "-c", "128", "--chunks", "2", "-m", models.stories(), "-f", sharedPath("datasets", "wikitext-2-raw-v1", "wiki.test.raw")]);
    assert.equal(r.status, 0, r.stderr.slice(-500));
    assert.match(r.stdout + r.stderr, /Final estimate: PPL = [\d.]+/);
  }
});
