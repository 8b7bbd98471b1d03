import { Cluster } from "ioredis";
import { redisContractSuites } from "./helpers/redis-contract-suites";
import { startRedisCluster, TestRedisCluster } from "./helpers/redis-cluster";

/**
 * The contract suites again, on a real Redis Cluster of 3 masters and 3 replicas: every script
 * touches one slot (no CROSSSLOT), presence spreads over the masters, history and idempotency
 * keys of a channel stay on its master.
 */
let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(() => cluster.stop());

redisContractSuites(
  "redis cluster",
  () =>
    new Cluster(
      cluster.nodes.map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })),
      { enableAutoPipelining: true, shardedSubscribers: true },
    ),
);
