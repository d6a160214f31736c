// The reproducibility manifest: everything that changes a score, so a mismatch can be explained.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import type { Backend, ModelDescription } from "../backends/backend.js";
import { llamaBuildInfo } from "../backends/llamaLib.js";

export function quantevalVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function hardware(): Record<string, unknown> {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memory_bytes: totalmem(),
    gpu: null,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}

export function buildManifest(args: {
  configText: string;
  seed: number;
  models: Array<{ backend: Backend; description: ModelDescription; settings?: Record<string, unknown> }>;
  tasks: Record<string, Record<string, unknown>>;
  limit?: number;
}): Record<string, unknown> {
  return {
    quanteval: quantevalVersion(),
    ...llamaBuildInfo(),
    config_sha256: createHash("sha256").update(args.configText).digest("hex"),
    seed: args.seed,
    limit_override: args.limit ?? null,
    hardware: hardware(),
    models: Object.fromEntries(
      args.models.map(({ backend, description, settings }) => [
        backend.name,
        {
          backend: backend.kind,
          fingerprint: backend.fingerprint(),
          sha256: description.sha256,
          file_bytes: description.file_bytes,
          quantization: description.quantization,
          vocab_hash: description.vocab_hash,
          settings: settings ?? {},
        },
      ]),
    ),
    tasks: args.tasks,
  };
}
