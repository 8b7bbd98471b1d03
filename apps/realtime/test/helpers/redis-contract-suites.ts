import type { RedisClient } from "../../src/cluster/redis-connections";
import { KeySpace } from "../../src/cluster/key-space";
import { RedisBroadcaster } from "../../src/history/redis-broadcaster";
import { RedisPresenceStore } from "../../src/presence/redis-presence-store";
import { RedisRateLimiter } from "../../src/state/redis-rate-limiter";
import { historyContract } from "../contracts/history.contract";
import { idempotentPublishContract } from "../contracts/idempotent-publish.contract";
import { presenceStoreContract } from "../contracts/presence-store.contract";
import { rateLimiterContract } from "../contracts/rate-limiter.contract";
import { uniquePrefix } from "./redis";

const CONTRACT_CHANNELS = ["thread.1", "thread.2", "user.1", "user.2", "user.3", "presence.1"];

const fail = (error: unknown): never => {
  throw error;
};

/**
 * The memory implementations' contract suites against the Redis ones, on whatever `connect` opens:
 * a single Redis or a Redis Cluster (same code, same keys). Connections and broadcasters are
 * closed after each test.
 */
export function redisContractSuites(name: string, connect: () => RedisClient): void {
  const clients: RedisClient[] = [];
  const broadcasters: RedisBroadcaster[] = [];
  afterEach(() => {
    for (const broadcaster of broadcasters.splice(0)) broadcaster.stop();
    for (const client of clients.splice(0)) client.disconnect();
  });
  const open = (): RedisClient => {
    const client = connect();
    clients.push(client);
    return client;
  };
  const startBroadcaster = async (prefix: string, commands: RedisClient, historySize = 100) => {
    const broadcaster = new RedisBroadcaster({
      commands,
      subscriber: open(),
      prefix,
      historySize,
      historyTtlS: 600,
      nodeId: "n1",
      lingerMs: 0,
      waitTimeoutMs: 0,
    });
    await broadcaster.start();
    broadcasters.push(broadcaster);
    // The node holds a member of every channel the contracts listen to: only those reach it.
    await Promise.all(CONTRACT_CHANNELS.map((channel) => broadcaster.hold(channel)));
    return broadcaster;
  };

  presenceStoreContract(
    name,
    () =>
      new RedisPresenceStore({
        redis: open(),
        prefix: uniquePrefix(),
        nodeId: "n1",
        nodeTtlMs: 15000,
        graceMs: 5000,
        onError: fail,
      }),
  );
  rateLimiterContract(name, () => new RedisRateLimiter(open(), uniquePrefix()));
  historyContract(name, async (size) => {
    const broadcaster = await startBroadcaster(uniquePrefix(), open(), size);
    return { broadcaster, history: broadcaster };
  });
  idempotentPublishContract(
    name,
    async () => {
      const prefix = uniquePrefix();
      const commands = open();
      const broadcaster = await startBroadcaster(prefix, commands);
      return {
        broadcaster,
        history: broadcaster,
        async breakChannel(channel) {
          const key = new KeySpace(prefix).history(channel);
          await commands.set(key, "not a stream");
          return async () => void (await commands.del(key));
        },
      };
    },
    () => new Promise((resolve) => setTimeout(resolve, 1100)),
    true,
  );

  describe(`${name} presence across nodes`, () => {
    it("reaps a dead node's sockets after NODE_TTL_MS: one offline per user left with none", async () => {
      const prefix = uniquePrefix();
      const options = { prefix, nodeTtlMs: 1000, graceMs: 500, onError: fail };
      const clientA = open();
      const nodeA = new RedisPresenceStore({ ...options, redis: clientA, nodeId: "a", onError: () => undefined });
      const nodeB = new RedisPresenceStore({ ...options, redis: open(), nodeId: "b" });
      nodeA.startHeartbeat();
      nodeB.startHeartbeat();
      await nodeA.connect("1", "a1", Date.now());
      await nodeA.connect("2", "a2", Date.now());
      await nodeB.connect("2", "b2", Date.now());
      clientA.disconnect(); // A dies without cleanup, like kill -9: its heartbeats stop
      const start = Date.now();
      const expired: string[] = [];
      while (Date.now() - start < 4000 && expired.length === 0) {
        expired.push(...(await nodeB.takeExpired(Date.now())));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(expired).toEqual(["1"]);
      expect(Date.now() - start).toBeGreaterThanOrEqual(options.nodeTtlMs - 400);
      expect((await nodeB.lookup(["2"])).get("2")).toMatchObject({ online: true, connections: 1 });
      // Only stops its timer: its last write would wait for ever on a Cluster client that was cut off.
      void nodeA.stop();
      await nodeB.stop();
    });

    it("marks a stopped node dead at once, so that what it still held is reaped by the next sweep", async () => {
      const prefix = uniquePrefix();
      const options = { prefix, nodeTtlMs: 60_000, graceMs: 0, onError: fail };
      const nodeA = new RedisPresenceStore({ ...options, redis: open(), nodeId: "a" });
      const nodeB = new RedisPresenceStore({ ...options, redis: open(), nodeId: "b" });
      nodeA.startHeartbeat();
      await nodeA.connect("1", "a1", Date.now());
      await nodeA.stop();
      expect(await nodeB.takeExpired(Date.now())).toEqual(["1"]);
      expect(await nodeB.takeExpired(Date.now())).toEqual([]);
    });
  });
}
