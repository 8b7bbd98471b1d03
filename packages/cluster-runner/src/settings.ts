import { randomBytes } from "node:crypto";
import type { ClusterOptions } from "./cluster";
import { NODE_MAIN } from "./paths";

/** ClusterOptions with every default applied: what startCluster works from. */
export interface ClusterSettings {
  nodeCount: number;
  port: number;
  /** own: start a redis-server; url: use that one; none: embedded nodes. */
  redis: { kind: "own" } | { kind: "own-cluster" } | { kind: "url"; url: string } | { kind: "none" };
  stickiness: "hash" | "round-robin";
  baseEnv: Record<string, string | undefined>;
  jwtSecret: string;
  apiKey: string;
  keyPrefix: string;
  logLevel: "info" | "debug";
  nodeScript: string;
  nodeArgs: (nodeId: string) => string[];
  keepLogs: boolean;
  startTimeoutMs: number;
}

export function resolveSettings(options: ClusterOptions): ClusterSettings {
  const nodeCount = options.nodes ?? 2;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 64) {
    throw new Error(`nodes must be a whole number from 1 to 64, got ${nodeCount}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port must be 0-65535, got ${port}`);
  const baseEnv = { ...(options.baseEnv ?? process.env), ...options.env };
  const redisUrl = options.redisUrl ?? baseEnv.REDIS_URL;
  return {
    nodeCount,
    port,
    redis:
      options.redis === false
        ? { kind: "none" }
        : options.redisCluster
          ? { kind: "own-cluster" }
          : redisUrl
            ? { kind: "url", url: redisUrl }
            : { kind: "own" },
    stickiness: options.stickiness ?? "hash",
    baseEnv,
    // Generated secrets are the same for every node, or a token from one would fail on another.
    jwtSecret: options.jwtSecret ?? (baseEnv.JWT_SECRET || randomBytes(32).toString("hex")),
    apiKey: options.apiKey ?? (baseEnv.LARAVEL_API_KEY || `rt_dev_${randomBytes(16).toString("hex")}`),
    keyPrefix: options.keyPrefix ?? `rt:${randomBytes(4).toString("hex")}:`,
    logLevel: options.logLevel ?? "info",
    nodeScript: options.nodeScript ?? NODE_MAIN,
    nodeArgs: options.nodeArgs ?? (() => []),
    keepLogs: options.keepLogs ?? false,
    startTimeoutMs: options.startTimeoutMs ?? 20_000,
  };
}
