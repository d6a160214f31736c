// The viewer bound to every interface (--host 0.0.0.0) still refuses Host headers that are
// not this machine's, so a web page cannot reach it through DNS rebinding; names given with
// --allow-host are accepted. Runs the real viewer over a real (small) run.
import assert from "node:assert/strict";
import { request } from "node:http";
import { hostname, networkInterfaces } from "node:os";
import { test } from "node:test";
import { startViewer } from "../../src/view/startViewer.js";
import { runConfig } from "../helpers/runConfig.js";
import { models } from "../helpers/shared.js";

/** GET with a chosen Host header; resolves with the status. */
function statusFor(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

test("view --host 0.0.0.0 keeps the Host check: this machine's names pass, others are refused, --allow-host adds names", async () => {
  const { out } = await runConfig({ baseline: { name: "f32", model: models.stories() }, tasks: [{ task: "kobest_copa", limit: 4 }] });
  const viewer = await startViewer({ root: out, host: "0.0.0.0", allowHosts: ["viewer.lab.example"] });
  try {
    const api = `${viewer.url}api/runs`;
    const port = new URL(viewer.url).port;
    const addresses = Object.values(networkInterfaces())
      .flatMap((a) => a ?? [])
      .map((a) => (a.family === "IPv6" ? `[${a.address}]` : a.address));
    for (const h of ["127.0.0.1", "localhost", "[::1]", hostname(), "viewer.lab.example", ...addresses]) {
      assert.equal(await statusFor(api, `${h}:${port}`), 200, `Host ${h} is this machine`);
    }
    for (const h of ["evil.example", "rebind.attacker.test", "127.0.0.1.evil.example"]) {
      assert.equal(await statusFor(api, `${h}:${port}`), 403, `Host ${h} refused`);
    }
  } finally {
    await viewer.close();
  }
});
