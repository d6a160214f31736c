// sha256File keeps large files' hashes across processes (<cache>/sha256/); a file changed in place,
// even with its size and mtime put back, must be hashed again (its ctime moved).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, openSync, readdirSync, rmSync, statSync, utimesSync, writeSync, closeSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sha256File } from "../../src/util/sha256File.js";

test("sha256File: stored for large files, hashed again after an in-place change with the mtime restored", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quanteval-sha-"));
  const saved = process.env.QUANTEVAL_CACHE;
  process.env.QUANTEVAL_CACHE = join(dir, "cache");
  try {
    const file = join(dir, "big.bin");
    const data = Buffer.alloc(65 << 20, 7);
    writeFileSync(file, data);
    const first = await sha256File(file);
    assert.equal(first, createHash("sha256").update(data).digest("hex"));
    assert.equal(readdirSync(join(dir, "cache", "sha256")).length, 1, "one stored entry");
    assert.equal(await sha256File(file), first);

    const st = statSync(file);
    await new Promise((r) => setTimeout(r, 20));
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.from([8]), 0, 1, 1000);
    closeSync(fd);
    utimesSync(file, st.atime, st.mtime);
    data[1000] = 8;
    const second = await sha256File(file);
    assert.equal(statSync(file).size, st.size);
    assert.equal(second, createHash("sha256").update(data).digest("hex"));
    assert.notEqual(second, first);
  } finally {
    if (saved === undefined) delete process.env.QUANTEVAL_CACHE;
    else process.env.QUANTEVAL_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
