// A small node:http stand-in for a misbehaving model server (one that answers with the wrong
// shape, refuses, or hangs on purpose cannot be had from a real server). It runs in its own
// process because the CLI under test is run with spawnSync, which blocks this event loop.
// Every request line ("METHOD /path?query") is reported back for assertions.
import { spawn } from "node:child_process";

export interface StandIn {
  url: string;
  /** Requests seen so far, as "METHOD /path?query". */
  requests(): Promise<string[]>;
  stop(): void;
}

/** `handlerSource` is the source of `(url, req, res) => void`, run in the child. */
export async function startStandIn(handlerSource: string): Promise<StandIn> {
  const src = `const h=${handlerSource};const s=require("node:http").createServer((q,r)=>{console.log("REQ "+q.method+" "+q.url);h(q.url,q,r);});s.listen(0,"127.0.0.1",()=>console.log("PORT "+s.address().port));`;
  const child = spawn(process.execPath, ["-e", src], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const port = await new Promise<number>((resolve) => {
    const check = () => {
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else setTimeout(check, 10);
    };
    check();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests: async () => {
      await new Promise((r) => setTimeout(r, 50));
      return out
        .split("\n")
        .filter((l) => l.startsWith("REQ "))
        .map((l) => l.slice(4));
    },
    stop: () => child.kill(),
  };
}
