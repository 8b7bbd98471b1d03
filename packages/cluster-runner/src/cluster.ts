import type { ExitStatus } from "./managed-process";

export interface ClusterOptions {
  /** Realtime nodes to start. Default 2. */
  nodes?: number;
  /** nginx port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /**
   * true (default): cluster mode on Redis — `redisUrl`, else REDIS_URL of the environment, else an own
   * redis-server on a free port. false: embedded nodes, no Redis (each node has its own state).
   */
  redis?: boolean;
  /** An existing Redis to use instead of starting one. */
  redisUrl?: string;
  /**
   * Start an own Redis Cluster (3 masters + 3 replicas) instead of one redis-server; nodes get
   * REDIS_CLUSTER_NODES alone. Default false.
   */
  redisCluster?: boolean;
  /** Default `hash` (sticky by client address). `round-robin` is a negative control only. */
  stickiness?: "hash" | "round-robin";
  /** Base environment of the nodes. Default process.env. */
  baseEnv?: Record<string, string | undefined>;
  /** Extra variables for every node, over `baseEnv` (e.g. PRESENCE_GRACE_MS). */
  env?: Record<string, string>;
  /** Default: JWT_SECRET of the environment, else generated. */
  jwtSecret?: string;
  /** Default: LARAVEL_API_KEY of the environment, else generated. */
  apiKey?: string;
  /** Default `rt:<random>:`, unique per run so runs can share a Redis. */
  keyPrefix?: string;
  /** Node log level. Default `info` (the runner needs the "listening" line). */
  logLevel?: "info" | "debug";
  /** Node script. Default apps/realtime/dist/main.js. */
  nodeScript?: string;
  /** Node.js options before the script, per node id (the bench's `--cpu-prof`, a file per node). Default none. */
  nodeArgs?: (nodeId: string) => string[];
  /** Keep the run directory (logs) after stop(). Default false. */
  keepLogs?: boolean;
  /** Per part: how long it may take to become ready. Default 20000. */
  startTimeoutMs?: number;
  /** Called when a part exits without being asked to (a crash, or a kill from outside). */
  onUnexpectedExit?: (part: { role: "redis" | "node" | "nginx"; name: string; status: ExitStatus }) => void;
}

export interface ClusterNode {
  readonly index: number;
  readonly id: string;
  readonly port: number;
  /** http://127.0.0.1:<port>, the node itself (not through nginx). */
  readonly url: string;
  /** pid of the current (or last) process; changes on startNode(). */
  readonly pid: number;
  readonly running: boolean;
}

/** What the CLI prints after READY, and what tests and the bench need to talk to the cluster. */
export interface ReadyInfo {
  url: string;
  nodes: { id: string; port: number; pid: number; url: string }[];
  redis: { url: string; pid: number | null } | null;
  /** With `redisCluster`: every Redis Cluster node (masters and replicas); else null. */
  redis_cluster: { address: string; port: number; pid: number }[] | null;
  nginx_pid: number;
  nginx_port: number;
  jwt_secret: string;
  api_key: string;
  key_prefix: string;
  logs: string;
}

export interface Cluster {
  /** Through nginx: http://127.0.0.1:<port>. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  /** null when `redis: false`; pid null for a Redis the runner did not start. */
  readonly redis: { url: string; pid: number | null } | null;
  /** With `redisCluster`: its nodes (a test kills a master with process.kill(pid, "SIGKILL")); else null. */
  readonly redisCluster: { address: string; port: number; pid: number }[] | null;
  readonly nginx: { port: number; pid: number };
  readonly jwtSecret: string;
  readonly apiKey: string;
  readonly keyPrefix: string;
  /** Directory of the log files (one per node, redis.log, nginx.log, nginx-access.log). */
  readonly logsDir: string;
  ready(): ReadyInfo;
  /** Signals node `index` (default SIGTERM: drain) and resolves with its exit once it is gone. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGKILL: a crash without any cleanup. */
  killNode(index: number): Promise<ExitStatus>;
  /** Starts a stopped node again with the same id and port; resolves once /health is 200. */
  startNode(index: number): Promise<ClusterNode>;
  /** Nodes (SIGTERM, in parallel), then nginx, then Redis; idempotent. */
  stop(): Promise<void>;
}
