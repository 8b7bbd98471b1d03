import Redis, { Cluster } from "ioredis";
import { requiredEnv } from "./server-kit";

export type RedisClient = Redis | Cluster;

export interface SocketIoRedisClients {
  pub: RedisClient;
  sub: RedisClient;
  close(): void;
}

/**
 * The pub/sub pair the redis-adapter takes, from the environment: REDIS_CLUSTER_NODES
 * (`host:port,...`) gives two ioredis `Cluster`s, else REDIS_PORT two connections to one Redis.
 * `sharded`: the subscriber Cluster gets `shardedSubscribers: true` (ioredis ≥ 5.9), one
 * connection per master for SSUBSCRIBE; without it the sharded adapter fails with MOVED
 * redirections on a cluster (PITFALLS.md). The classic adapter's PSUBSCRIBE goes over the
 * Cluster's one ordinary subscriber connection (a cluster forwards PUBLISH to every node).
 */
export function redisClientsFromEnv(options: { sharded: boolean }): SocketIoRedisClients {
  const clusterNodes = process.env.REDIS_CLUSTER_NODES;
  if (clusterNodes) {
    const nodes = clusterNodes.split(",").map((node) => {
      const [host, port] = node.trim().split(":");
      return { host, port: Number(port) };
    });
    const pub = new Cluster(nodes);
    const sub = new Cluster(nodes, { shardedSubscribers: options.sharded });
    return { pub, sub, close: () => [pub, sub].forEach((client) => client.disconnect()) };
  }
  const pub = new Redis({ host: "127.0.0.1", port: Number(requiredEnv("REDIS_PORT")), lazyConnect: false });
  const sub = pub.duplicate();
  return { pub, sub, close: () => [pub, sub].forEach((client) => client.disconnect()) };
}
