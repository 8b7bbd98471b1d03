import Redis, { Cluster, RedisOptions } from "ioredis";

export type RedisClient = Redis | Cluster;

export interface RedisConnections {
  /** Commands and publishes. No offline queue: while Redis is away a command fails at once (→ 503). */
  commands: RedisClient;
  /** Subscriptions. Keeps ioredis's offline queue: resubscription after a reconnect goes through it. */
  subscriber: RedisClient;
  close(): Promise<void>;
}

export interface RedisTarget {
  url?: string;
  clusterNodes: string[];
}

const COMMAND_TIMEOUT_MS = 2000;

/** The one place that creates Redis connections (a single Redis, or a Redis Cluster). */
export function createRedisConnections(target: RedisTarget, name: string): RedisConnections {
  const base: RedisOptions = {
    connectionName: name,
    // Reconnect for ever, quickly: a node must come back by itself when Redis does.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    lazyConnect: false,
  };
  const commandOptions: RedisOptions = {
    ...base,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Not auto-pipelined: a command goes out when it is issued, not at the next setImmediate in a
    // Pipeline of its own. A node's publishes are mostly one per call, and that deferral cost CPU
    // on each (docs/PERFORMANCE.md, "Auto-pipelining off"); the calls that send many commands at
    // once batch them with inOneWrite (one-write.ts).
    enableAutoPipelining: false,
  };
  const subscriberOptions: RedisOptions = { ...base, maxRetriesPerRequest: null };
  const make = (options: RedisOptions, sharded: boolean): RedisClient => {
    if (target.clusterNodes.length > 0) {
      const nodes = target.clusterNodes.map((node) => {
        const [host, port] = node.split(":");
        return { host, port: Number(port) };
      });
      return new Cluster(nodes, {
        redisOptions: options,
        enableOfflineQueue: options.enableOfflineQueue ?? true,
        enableAutoPipelining: options.enableAutoPipelining ?? false,
        // One subscriber connection per master for SSUBSCRIBE (ioredis ≥ 5.9): a channel's events
        // come from the master of its slot only (see docs/SCALING.md). The commands client needs
        // none (it would open one idle connection per master).
        shardedSubscribers: sharded,
        clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      });
    }
    return new Redis(target.url ?? "redis://127.0.0.1:6379", options);
  };
  const commands = make(commandOptions, false);
  const subscriber = make(subscriberOptions, true);
  // Errors are reported through health and the failing calls; without a listener ioredis logs them.
  commands.on("error", () => undefined);
  subscriber.on("error", () => undefined);
  return {
    commands,
    subscriber,
    async close() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

/** The oldest Redis this node runs on: sharded pub/sub (SPUBLISH / SSUBSCRIBE) came with 7.0. */
export const MIN_REDIS_MAJOR = 7;

/**
 * Refuses to start on a Redis older than 7 (every master of a cluster is asked), with an error
 * that says which server and which version, rather than failing on the first sharded command.
 */
export async function assertRedisVersion(client: RedisClient): Promise<void> {
  const servers = client instanceof Cluster ? client.nodes("master") : [client];
  await Promise.all(
    servers.map(async (server) => {
      await whenReady(server, 5000);
      const info = await server.info("server");
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
      if (!(Number(version.split(".")[0]) >= MIN_REDIS_MAJOR)) {
        const where = `${server.options.host ?? "?"}:${server.options.port ?? "?"}`;
        throw new Error(
          `Redis at ${where} is version ${version}; MechaMap Realtime needs Redis >= ${MIN_REDIS_MAJOR}.0`,
        );
      }
    }),
  );
}

/** Resolves once the client is ready (or rejects after `timeoutMs`), for a clean start. */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
