// Bad answers from an HTTP model server: each is one clear line and a non-zero exit. The
// misbehaving servers are small node:http stand-ins on 127.0.0.1, each in its own process (a real
// server that answers badly on purpose cannot be had here); timeouts are kept short in the spec.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";

function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("quanteval:"));
  assert.equal(lines.length, 1, `one error line expected:\n${stderr}`);
  assert.ok(!/^\s+at /m.test(stderr), "no stack trace");
  return lines[0];
}

for (const [what, handler, expect] of [
  [
    "answers 404 to everything",
    (_p: string, res: import("node:http").ServerResponse) => {
      res.statusCode = 404;
      res.end("not found");
    },
    /404|not found|does not/i,
  ],
  [
    "answers 500 to everything",
    (_p: string, res: import("node:http").ServerResponse) => {
      res.statusCode = 500;
      res.end("boom");
    },
    /500/,
  ],
  [
    "answers invalid JSON",
    (_p: string, res: import("node:http").ServerResponse) => {
      res.setHeader("content-type", "application/json");
      res.end("{not json");
    },
    /JSON|invalid|unexpected/i,
  ],
] as const) {
  test(`an HTTP server that ${what}`, async () => {
    // The CLI call blocks this event loop, so the stand-in server runs in its own process.
    const r = await runInChildServer(handler.toString());
    assert.notEqual(r.status, 0);
    const line = oneLine(r.stderr);
    assert.match(line, expect);
    assert.ok(line.includes("srv") || line.includes("127.0.0.1"), `names the model or server: ${line}`);
  });
}

test("an HTTP server that never answers times out with one clear line", async () => {
  const r = await runInChildServer("(_p, _res) => {}");
  assert.notEqual(r.status, 0);
  assert.match(oneLine(r.stderr), /no answer within \d+ ms/);
});

/** Runs the stand-in server in a separate node process so the blocking CLI call can reach it. */
async function runInChildServer(handlerSource: string): Promise<{ status: number | null; stderr: string }> {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["-e", `const h=${handlerSource};const s=require("node:http").createServer((q,r)=>h(q.url,r));s.listen(0,"127.0.0.1",()=>console.log(s.address().port));`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve) => child.stdout.once("data", (d) => resolve(Number(String(d).trim()))));
  try {
    const dir = tempDir();
    const path = writeConfig({ baseline: { name: "srv", backend: "http", base_url: `http://127.0.0.1:${port}`, model: "m", timeout_ms: 800 }, tasks: [{ task: "kobest_copa", limit: 2 }] }, dir);
    return cli(["run", path, "--out", join(dir, "out")]);
  } finally {
    child.kill();
  }
}
