// HTTP faults, round 2, through the real CLI against small stand-in servers (a real server
// that answers with the wrong shape or refuses on purpose cannot be had here): a /tokenize
// answer of the wrong JSON shape, a secret in base_url's query string, paths joined before the
// query, and a deterministic 401 sent once instead of retried at every concurrency slot.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { joinUrl, Redactor, redactUrl, urlSecrets } from "../../src/backends/http/redact.js";
import { cli } from "../helpers/cli.js";
import { tempDir, writeConfig } from "../helpers/runConfig.js";
import { expectOneLineError } from "./expectOneLine.js";
import { startStandIn } from "../helpers/standInServer.js";

/** A llama-server look-alike: /props, /v1/models and /tokenize answer; `completion` decides the rest. */
const llamaLike = (tokenize: string, completion: string) => `(url, req, res) => {
  let body = ""; req.on("data", (d) => (body += d)); req.on("end", () => {
    const path = url.split("?")[0]; const json = (v, s = 200) => { res.statusCode = s; res.setHeader("content-type", "application/json"); res.end(JSON.stringify(v)); };
    const b = body ? JSON.parse(body) : {};
    if (path === "/props") return json({ default_generation_settings: { n_ctx: 512 }, total_slots: 1, model_path: "m.gguf" });
    if (path === "/v1/models") return json({ data: [{ id: "m", meta: { n_vocab: 4 } }] });
    if (path === "/tokenize") return (${tokenize})(b, json);
    return (${completion})(b, json);
  });
}`;

function run(baseUrl: string, extra: string[] = []) {
  const dir = tempDir();
  const path = writeConfig({ baseline: { name: "srv", backend: "http", base_url: baseUrl, model: "m", timeout_ms: 2000 }, tasks: [{ task: "kobest_copa", limit: 8 }] }, dir);
  return cli(["run", path, "--out", join(dir, "out"), ...extra]);
}

test("a server answering /tokenize with the wrong JSON shape: one line naming the endpoint", async () => {
  const srv = await startStandIn(llamaLike(`(b, json) => json({ ids: [1, 2] })`, `(b, json) => json({}, 404)`));
  try {
    expectOneLineError(run(srv.url), "/tokenize", `{"ids":[1,2]}`, 'not {"tokens"');
  } finally {
    srv.stop();
  }
});

test("a secret in base_url's query string is never printed; paths go before the query; a 401 is sent once", async () => {
  const tokenize = `(b, json) => json({ tokens: b.with_pieces ? b.content.map((id) => ({ id, piece: "t" + id })) : (b.add_special ? [0, 1] : [1]) })`;
  const srv = await startStandIn(llamaLike(tokenize, `(b, json) => json({ error: "invalid api key" }, 401)`));
  try {
    const r = run(`${srv.url}/?key=SECRET-KEY-4242`, ["-j", "8"]);
    const line = expectOneLineError(r, "HTTP 401", "api_key_env");
    assert.ok(!r.stderr.includes("SECRET-KEY-4242"), `secret printed: ${r.stderr}`);
    const seen = await srv.requests();
    assert.ok(seen.includes("GET /props?key=SECRET-KEY-4242"), `path joined before the query: ${seen.join(", ")}`);
    const refused = seen.filter((s) => s.startsWith("POST /completion"));
    assert.equal(refused.length, 1, `the 401 was sent ${refused.length} times: ${seen.join(", ")}`);
    assert.ok(!line.includes("?"), line);
  } finally {
    srv.stop();
  }
});

test("redaction and URL joining", () => {
  assert.equal(joinUrl("http://h:1/v1?key=k", "/tokenize"), "http://h:1/v1/tokenize?key=k");
  assert.equal(joinUrl("http://h:1?key=k&x=1", "/props"), "http://h:1/props?key=k&x=1");
  assert.equal(redactUrl("http://u:p@h:1/v1?key=k"), "http://h:1/v1");
  const r = new Redactor(urlSecrets("http://u:pass-word@h/?api_key=abc%2Fdef123"));
  const text = r.redact("GET http://h/x?api_key=abc%2Fdef123 failed: abc/def123 pass-word");
  assert.ok(!/abc|pass-word/.test(text), text);
});
