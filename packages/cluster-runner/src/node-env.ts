export interface NodeEnvInput {
  /** What the runner was started with (process.env plus the caller's extra variables). */
  base: Record<string, string | undefined>;
  id: string;
  /** 0: the node picks a free port and logs it. */
  port: number;
  /** null (and no cluster nodes): embedded mode. */
  redisUrl: string | null;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); empty: none. */
  redisClusterNodes?: string[];
  keyPrefix: string;
  jwtSecret: string;
  apiKey: string;
  logLevel: "info" | "debug";
}

/**
 * The environment of one node: the runner's own, overridden by what the cluster needs to hang
 * together (same secrets everywhere, one Redis and prefix, distinct ids, JSON logs the runner reads).
 */
export function nodeEnvironment(input: NodeEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.base)) if (value !== undefined) env[name] = value;
  // The runner decides the Redis topology; a stray variable must not turn a node into another mode.
  delete env.REDIS_URL;
  delete env.REDIS_CLUSTER_NODES;
  if (input.redisUrl) env.REDIS_URL = input.redisUrl;
  if (input.redisClusterNodes?.length) env.REDIS_CLUSTER_NODES = input.redisClusterNodes.join(",");
  return {
    ...env,
    NODE_ENV: env.NODE_ENV || "development",
    PORT: String(input.port),
    HOST: "127.0.0.1",
    NODE_ID: input.id,
    REDIS_KEY_PREFIX: input.keyPrefix,
    JWT_SECRET: input.jwtSecret,
    LARAVEL_API_KEY: input.apiKey,
    // The runner waits for the "listening" line: JSON, and a level that prints it.
    LOG_FORMAT: "json",
    LOG_LEVEL: input.logLevel,
  };
}

/** SHUTDOWN_TIMEOUT_MS as the nodes will read it, so the runner waits long enough for a drain. */
export function shutdownTimeoutMs(env: Record<string, string | undefined>): number {
  const value = Number(env.SHUTDOWN_TIMEOUT_MS);
  return Number.isInteger(value) && value > 0 ? value : 10_000;
}
