// A proxy in front of a real server that fails on cue: it forwards every request until `limit`
// counted ones went through, then drops every connection until a file exists. A stand-in
// (standInServer.ts) because a real server that drops connections on cue cannot be had.
import { type StandIn, startStandIn } from "./standInServer.js";

/**
 * Forwards to `upstream`; after `limit` requests drops every connection until `healFile` exists.
 * `countOnly` counts only the requests to that path (e.g. "/completion", the scoring requests);
 * by default every request counts.
 */
export function dropConnectionsAfter(upstream: string, limit: number, healFile: string, countOnly?: string): Promise<StandIn> {
  const counted = countOnly === undefined ? "true" : `url === ${JSON.stringify(countOnly)}`;
  return startStandIn(`(() => { let n = 0; const http = require("node:http"); const fs = require("node:fs");
    return (url, req, res) => {
      if (${counted} && ++n > ${limit} && !fs.existsSync(${JSON.stringify(healFile)})) return req.socket.destroy();
      const up = http.request(${JSON.stringify(upstream)} + url, { method: req.method, headers: req.headers }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
      up.on("error", () => req.socket.destroy());
      req.pipe(up);
    }; })()`);
}
