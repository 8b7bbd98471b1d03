import type { Pinning } from "../proc/pinning";

/** The single-node targets: every scenario's default, interleaved in this order. */
export const TARGET_NAMES = ["ours", "bare", "echo", "ws"] as const;
/**
 * Targets run only when asked for (`--target`) or by the scenarios that need them (S4, S5).
 * `ours-base` / `ours-cluster-base` are ours / ours-cluster built from another checkout
 * (BENCH_BASELINE_MAIN), to measure a change before and after in the same run.
 */
export const EXTRA_TARGET_NAMES = [
  "ours-cluster",
  "bare-cluster",
  "sharded-cluster",
  "ours-base",
  "ours-cluster-base",
] as const;
/** The multi-node targets: the ones `--redis-cluster` can put on a Redis Cluster. */
export const CLUSTER_TARGET_NAMES = ["ours-cluster", "bare-cluster", "sharded-cluster", "ours-cluster-base"] as const;
/** Nodes of a cluster target when neither the scenario nor `--nodes` says otherwise. */
export const DEFAULT_CLUSTER_NODES = 2;
export type TargetName = (typeof TARGET_NAMES)[number] | (typeof EXTRA_TARGET_NAMES)[number];

/** What the load clients speak: Engine.IO v4 + Socket.IO v5, Engine.IO v3 (socket.io 2), or plain frames. */
export type WireProtocol = "eio4" | "eio3" | "ws";

/** How one event is handed to a target; the publisher turns this into a send function. */
export type Ingress =
  | {
      kind: "http";
      url: string;
      headers: Record<string, string>;
      body: (channel: string, event: string, data: object) => string;
    }
  | {
      /** Laravel's Redis broadcaster: PUBLISH `<prefix><channel>` `{"event","data","socket"}`. */
      kind: "redis";
      port: number;
      redisChannel: (channel: string) => string;
      message: (event: string, data: object) => string;
    };

/** What a connecting client needs to prove; each worker signs its own tokens. */
export type ClientAuth = { kind: "none" } | { kind: "jwt"; secret: string };

export interface HeapSample {
  rssBytes: number;
  heapUsedBytes: number;
}

/** One node of a started target: how clients reach it, its process, and its HTTP way in. */
export interface TargetNode {
  /** `ws://127.0.0.1:port/...`, like RunningTarget.url. */
  url: string;
  pid: number;
  ingress: Ingress;
}

/** One redis-server process of a target: its client port and pid. */
export interface RedisServer {
  port: number;
  pid: number;
}

/**
 * A started target. The cluster variants (`ours-cluster` over packages/cluster-runner's
 * `startCluster()`, `bare-cluster`) fit the same shape: `url` is the receiving node 1, `ingress`
 * node 2, `serverPids` node 1 and `helperPids` the other nodes + Redis (+ nginx); `nodes` lists them all.
 */
export interface RunningTarget {
  name: TargetName;
  /** `ws://127.0.0.1:port/...` up to (not including) the query string. */
  url: string;
  protocol: WireProtocol;
  auth: ClientAuth;
  /** Processes whose CPU and memory are "the server". */
  serverPids: number[];
  /** Processes the target needs besides the server (its Redis): counted as neither server nor foreign load. */
  helperPids: number[];
  /** The target's usual way in: HTTP for most, Redis for laravel-echo-server (what Laravel uses). */
  ingress: Ingress;
  /** The HTTP way in, where the usual one is something else (S3 measures HTTP for everyone). */
  httpIngress: Ingress;
  /** Cluster targets: every node in order (node 1 first); absent for single-node targets (S5: one node). */
  nodes?: TargetNode[];
  /**
   * Every redis-server of the target, where it has Redis (bare, the cluster targets): one, or the
   * masters and replicas of a Redis Cluster (`--redis-cluster`). S5 measures their CPU and traffic.
   */
  redis?: RedisServer[];
  /** Resolves once `count` sockets are in `channel`: needed where subscribing has no ack (EIO3). */
  waitForSubscribers(channel: string, count: number, timeoutMs: number): Promise<void>;
  /** Full GC in the server, then its heap and RSS; only when started with `memoryProbe`. */
  heapAfterGc?(): Promise<HeapSample>;
  stop(): Promise<void>;
}

export interface TargetOptions {
  pinning: Pinning;
  /** Load the GC probe into the server process (memory scenario). */
  memoryProbe: boolean;
  /** Directory for a V8 CPU profile of the server (`--cpu-prof`), or undefined. */
  cpuProfileDir: string | undefined;
  /** Client events per second per socket for ours (its rate limit is part of the product). */
  socketEventRateLimit: number;
  /** Cluster targets: how many nodes (default DEFAULT_CLUSTER_NODES); single-node targets ignore it. */
  nodes?: number;
  /**
   * Cluster targets: run on a local Redis Cluster (3 masters + 3 replicas) instead of one
   * redis-server (`--redis-cluster`); single-node targets refuse it.
   */
  redisCluster?: boolean;
}
