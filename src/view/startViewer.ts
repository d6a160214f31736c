// The local viewer: a node:http server (no framework: three JSON routes and one static page)
// over the runs under a folder. It binds 127.0.0.1 unless told otherwise, answers only GET,
// refuses Host headers that are not its own (DNS rebinding; also when bound to 0.0.0.0), and
// opens run stores read-only.
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { basename, resolve } from "node:path";
import { QuantevalError } from "../util/errors.js";
import { findRuns, type RunEntry } from "./findRuns.js";
import { readResults, RunReader, SAMPLE_FILTERS, type SampleFilter } from "./runReader.js";
import { VIEWER_SCRIPT, viewerHtml } from "./viewerPage.js";

export interface ViewerOptions {
  /** A run folder, or a folder with runs below it. */
  root: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Interface to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** Further Host header names to accept (e.g. a DNS name other machines use for this one). */
  allowHosts?: string[];
}

export interface Viewer {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1"];

/**
 * Host header names the viewer answers to: loopback names, the bound host, and when bound to
 * every interface (0.0.0.0, ::) this machine's hostname and interface addresses. Anything
 * else is refused even then, so a web page cannot reach the viewer through DNS rebinding
 * (its requests carry the attacker's host name).
 */
export function allowedHosts(bound: string, extra: string[] = []): Set<string> {
  const names = [...LOCAL_HOSTS, bound, ...extra];
  if (bound === "0.0.0.0" || bound === "::") {
    names.push(hostname());
    for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) names.push(a.address);
  }
  return new Set(
    names.map((n) =>
      n
        .toLowerCase()
        .replace(/^\[(.*)\]$/, "$1")
        .replace(/%.*$/, ""),
    ),
  );
}

/** The host name of a Host header, lowercased, without port or IPv6 brackets. */
function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  return v6 ? v6[1] : h.replace(/:\d+$/, "");
}

/** Starts the viewer and resolves once it listens. */
export async function startViewer(opts: ViewerOptions): Promise<Viewer> {
  const root = resolve(opts.root);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new QuantevalError(`${opts.root}: no such folder; pass a run folder (quanteval run --out DIR) or a folder holding runs`);
  const host = opts.host ?? "127.0.0.1";
  const allowed = allowedHosts(host, opts.allowHosts);
  const html = viewerHtml();
  const csp = `default-src 'none'; script-src 'sha256-${createHash("sha256").update(VIEWER_SCRIPT, "utf8").digest("base64")}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  const readers = new Map<string, RunReader>();
  // The root itself is run "."; show its folder name.
  const runName = (run: RunEntry) => (run.id === "." ? basename(root) || root : run.id);
  const summaries = new Map<string, { mtimeMs: number; summary: Record<string, unknown> }>();

  const runById = (id: string | null): RunEntry => {
    if (!id) throw new HttpError(400, "missing ?run=");
    const run = findRuns(root).find((r) => r.id === id);
    if (!run) throw new HttpError(404, `no run '${id}' under ${root}`);
    return run;
  };
  const reader = (run: RunEntry): RunReader => {
    const open = readers.get(run.id);
    // A run rewritten since it was opened (resumed, re-run) is read again.
    if (open && open.mtimeMs === run.mtimeMs) return open;
    open?.close();
    const r = RunReader.open(run.dir);
    readers.set(run.id, r);
    return r;
  };

  const routes: Record<string, (u: URL) => unknown> = {
    "/api/runs": () => ({
      root,
      runs: findRuns(root).map((run) => {
        const cachedSummary = summaries.get(run.id);
        if (cachedSummary && cachedSummary.mtimeMs === run.mtimeMs) return cachedSummary.summary;
        let summary: Record<string, unknown>;
        try {
          const r = readResults(run.dir);
          summary = {
            id: run.id,
            name: runName(run),
            created: r.created ?? null,
            baseline: r.baseline,
            variants: r.variants,
            noise_floor: r.noise_floor,
            tasks: Object.keys(r.tasks),
            warnings: r.warnings.length,
          };
        } catch (e) {
          summary = { id: run.id, name: runName(run), created: null, baseline: "?", variants: [], noise_floor: null, tasks: [], warnings: 0, error: (e as Error).message };
        }
        summaries.set(run.id, { mtimeMs: run.mtimeMs, summary });
        return summary;
      }),
    }),
    "/api/run": (u) => {
      const run = runById(u.searchParams.get("run"));
      const r = reader(run);
      return {
        id: run.id,
        name: runName(run),
        baseline: r.results.baseline,
        variants: r.results.variants,
        noise_floor: r.results.noise_floor,
        created: r.results.created,
        warnings: r.results.warnings,
        comparisons: r.comparisons(),
      };
    },
    "/api/samples": (u) => {
      const r = reader(runById(u.searchParams.get("run")));
      const p = u.searchParams;
      const task = p.get("task");
      const variant = p.get("variant");
      if (!task || !variant) throw new HttpError(400, "missing ?task= or ?variant=");
      const known = r.comparisons().some((c) => c.task === task && c.variant === variant);
      if (!known) throw new HttpError(404, `run has no samples for task '${task}' and variant '${variant}'`);
      const filter = (p.get("filter") ?? "all") as SampleFilter;
      if (!SAMPLE_FILTERS.includes(filter)) throw new HttpError(400, `filter must be one of ${SAMPLE_FILTERS.join(", ")}`);
      const int = (name: string, dflt: number) => {
        const v = p.get(name);
        if (v === null || v === "") return dflt;
        if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be a whole number ≥ 0`);
        return Number(v);
      };
      return r.page({ task, variant, filter, q: p.get("q") ?? "", offset: int("offset", 0), limit: int("limit", 50) });
    },
  };

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, {
      "content-type": type,
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "content-security-policy": csp,
    });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "only GET");
      const hostHeader = hostOf(req.headers.host ?? "");
      if (!allowed.has(hostHeader)) throw new HttpError(403, `host '${hostHeader}' not allowed (quanteval view --allow-host ${hostHeader || "NAME"} accepts it)`);
      const u = new URL(req.url ?? "/", "http://viewer");
      if (u.pathname === "/" || u.pathname === "/index.html") return send(res, 200, "text/html; charset=utf-8", html);
      if (u.pathname === "/favicon.ico") return send(res, 204, "image/x-icon", "");
      const route = routes[u.pathname];
      if (!route) throw new HttpError(404, `no route ${u.pathname}`);
      send(res, 200, "application/json; charset=utf-8", JSON.stringify(route(u)));
    } catch (e) {
      const status = e instanceof HttpError ? e.status : e instanceof QuantevalError ? 400 : 500;
      send(res, status, "application/json; charset=utf-8", JSON.stringify({ error: (e as Error).message }));
    }
  };

  const server = createServer(handle);
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") fail(new QuantevalError(`--port ${opts.port}: address already in use on ${host}; pass another --port (0 picks a free one)`));
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") fail(new QuantevalError(`--host ${host}: not an address of this machine; use 127.0.0.1 (the default)`));
      else if (e.code === "EACCES") fail(new QuantevalError(`--port ${opts.port}: not allowed to bind it; pass a port above 1023`));
      else fail(e);
    });
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        for (const r of readers.values()) r.close();
        readers.clear();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
