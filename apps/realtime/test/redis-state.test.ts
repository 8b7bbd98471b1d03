import Redis from "ioredis";
import { createRedisConnections, whenReady } from "../src/cluster/redis-connections";
import type { ChannelMessage } from "../src/core/ports";
import { RedisBroadcaster } from "../src/history/redis-broadcaster";
import { RedisPresenceStore } from "../src/presence/redis-presence-store";
import { redisContractSuites } from "./helpers/redis-contract-suites";
import { startRedis, TestRedis } from "./helpers/redis";
import { channelMembersSuites } from "./helpers/channel-members-suites";
import { flush } from "./contracts/idempotent-publish.contract";
import { until } from "./helpers/node";

/** The same contract suites as the memory implementations, against a real Redis. */
let redis: TestRedis;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(() => redis.stop());

const connect = (): Redis => {
  const client = new Redis(redis.url);
  clients.push(client);
  return client;
};

redisContractSuites("redis", connect);
channelMembersSuites("redis", connect);

describe("redis idempotent publish", () => {
  it("fails while Redis is down, and the retry with the same id delivers once when it is back", async () => {
    const own = await startRedis();
    // The production connections: no offline queue, so a command fails at once while Redis is away.
    const connections = createRedisConnections({ url: own.url, clusterNodes: [] }, "test");
    await Promise.all([whenReady(connections.commands, 5000), whenReady(connections.subscriber, 5000)]);
    const broadcaster = new RedisBroadcaster({
      ...connections,
      prefix: "p:",
      historySize: 100,
      historyTtlS: 600,
      nodeId: "n1",
      lingerMs: 0,
      waitTimeoutMs: 0,
    });
    await broadcaster.start();
    await broadcaster.hold("user.1");
    await broadcaster.hold("flush"); // the sentinel's channel
    const seen: ChannelMessage[] = [];
    broadcaster.onMessage((message) => void (message.meta && seen.push(message)));
    let backAt = 0;
    broadcaster.onGap(() => (backAt = Date.now()));
    const draft = { channel: "user.1", event: "e", data: {}, id: "k" };
    try {
      await own.stop();
      await expect(broadcaster.publishOnce("k", 60, [draft])).rejects.toThrow();
      await own.start();
      await until(() => backAt > 0, 10_000, "the canary's round trip: the bus works again");
      expect((await broadcaster.publishOnce("k", 60, [draft])).duplicate).toBe(false);
      expect((await broadcaster.publishOnce("k", 60, [draft])).duplicate).toBe(true);
      await until(() => seen.length > 0, 5000, "the delivery");
      await flush(broadcaster, seen);
      expect(seen).toHaveLength(1);
    } finally {
      broadcaster.stop();
      await connections.close();
      await own.stop();
    }
  });
});

describe("redis presence across nodes", () => {
  it("registers a node's sockets again when Redis comes back empty", async () => {
    const own = await startRedis();
    const client = new Redis(own.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on("error", () => undefined);
    clients.push(client);
    const store = new RedisPresenceStore({
      redis: client,
      prefix: "p:",
      nodeId: "a",
      nodeTtlMs: 600,
      graceMs: 500,
      onError: () => undefined,
    });
    store.startHeartbeat();
    await store.connect("7", "s7", Date.now());
    await own.stop();
    await own.start();
    await until(
      async () => (await store.lookup(["7"]).catch(() => undefined))?.get("7")?.online === true,
      5000,
      "the heartbeat registering s7 again",
    );
    expect((await store.lookup(["7"])).get("7")).toMatchObject({ online: true, connections: 1 });
    await store.stop();
    await own.stop();
  });
});
