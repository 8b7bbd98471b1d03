import { startLocalRedisCluster } from "../proc/redis-cluster";
import { startRedis } from "../proc/redis-server";
import type { RedisServer, TargetOptions } from "./target";

/** The Redis under a hand-written Socket.IO target: one redis-server, or a local Redis Cluster. */
export interface RedisBackend {
  servers: RedisServer[];
  /** What the server programs read (socketio-redis-clients.ts): REDIS_PORT, or REDIS_CLUSTER_NODES. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startRedisBackend(options: TargetOptions): Promise<RedisBackend> {
  if (options.redisCluster) {
    const cluster = await startLocalRedisCluster();
    return { servers: cluster.servers, env: { REDIS_CLUSTER_NODES: cluster.nodes.join(",") }, stop: cluster.stop };
  }
  const redis = await startRedis(options.pinning);
  return {
    servers: [{ port: redis.port, pid: redis.pid }],
    env: { REDIS_PORT: String(redis.port) },
    stop: redis.stop,
  };
}
