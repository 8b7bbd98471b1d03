import Redis, { Cluster } from "ioredis";
import { slotOf } from "../src/cluster/key-space";
import { channelMembersSuites } from "./helpers/channel-members-suites";
import { redisContractSuites } from "./helpers/redis-contract-suites";
import { startRedisCluster, TestRedisCluster } from "./helpers/redis-cluster";

/**
 * The contract suites again, on a real Redis Cluster of 3 masters and 3 replicas: every script
 * touches one slot (no CROSSSLOT), presence spreads over the masters, history and idempotency
 * keys of a channel stay on its master, Echo presence-channel members too.
 */
let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(() => cluster.stop());

const connect = (): Cluster =>
  new Cluster(
    cluster.nodes.map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })),
    { shardedSubscribers: true },
  );

redisContractSuites("redis cluster", connect);
channelMembersSuites("redis cluster", connect);

describe("slotOf", () => {
  it("computes the slot Redis computes, hash tags included", async () => {
    const client = new Redis(cluster.ports[0]);
    try {
      for (const name of ["rt:{thread.7}:h", "rt:{thread.7}", "plain", "a{}b{c}", "x{y}z{w}", "rt:{~canary.n1.3}"]) {
        expect(slotOf(name)).toBe(await client.cluster("KEYSLOT", name));
      }
    } finally {
      client.disconnect();
    }
  });
});
