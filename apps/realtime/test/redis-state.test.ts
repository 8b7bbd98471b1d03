import Redis from "ioredis";
import { createRedisConnections, whenReady } from "../src/cluster/redis-connections";
import type { ChannelMessage } from "../src/core/ports";
import { Publisher } from "../src/core/publisher";
import { RedisBroadcaster } from "../src/history/redis-broadcaster";
import { RedisPresenceStore } from "../src/presence/redis-presence-store";
import { RedisRateLimiter } from "../src/state/redis-rate-limiter";
import { historyContract } from "./contracts/history.contract";
import { flush, idempotentPublishContract } from "./contracts/idempotent-publish.contract";
import { presenceStoreContract } from "./contracts/presence-store.contract";
import { channelMembersContract } from "./contracts/channel-members.contract";
import { RedisChannelMembers } from "../src/presence/redis-channel-members";
import { rateLimiterContract } from "./contracts/rate-limiter.contract";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";
import { ManualTime } from "./helpers/manual-time";
import { until } from "./helpers/node";

/** The same contract suites as the memory implementations, against a real Redis. */
const fail = (error: unknown): never => {
  throw error;
};
let redis: TestRedis;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
const broadcasters: RedisBroadcaster[] = [];
afterEach(() => {
  for (const broadcaster of broadcasters.splice(0)) broadcaster.stop();
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(() => redis.stop());

const connect = (): Redis => {
  const client = new Redis(redis.url, { enableAutoPipelining: true });
  clients.push(client);
  return client;
};

presenceStoreContract(
  "redis",
  () =>
    new RedisPresenceStore({
      redis: connect(),
      prefix: uniquePrefix(),
      nodeId: "n1",
      nodeTtlMs: 15000,
      graceMs: 5000,
      onError: fail,
    }),
);
channelMembersContract(
  "redis",
  () =>
    new RedisChannelMembers({
      redis: connect(),
      prefix: uniquePrefix(),
      nodeId: "n1",
      nodeTtlMs: 15000,
      graceMs: 5000,
      onError: fail,
    }),
);
rateLimiterContract("redis", () => new RedisRateLimiter(connect(), uniquePrefix()));
historyContract("redis", async (size) => {
  const broadcaster = new RedisBroadcaster({
    commands: connect(),
    subscriber: connect(),
    prefix: uniquePrefix(),
    historySize: size,
    historyTtlS: 600,
    nodeId: "n1",
  });
  await broadcaster.start();
  broadcasters.push(broadcaster);
  return { broadcaster, history: broadcaster };
});

async function startBroadcaster(prefix: string, commands: Redis = connect()): Promise<RedisBroadcaster> {
  const broadcaster = new RedisBroadcaster({
    commands,
    subscriber: connect(),
    prefix,
    historySize: 100,
    historyTtlS: 600,
    nodeId: "n1",
  });
  await broadcaster.start();
  broadcasters.push(broadcaster);
  return broadcaster;
}

/** The keys of the contract test running now (its prefix), whose time `advance` moves. */
let contract = { prefix: "", commands: undefined as Redis | undefined };
idempotentPublishContract(
  "redis",
  async () => {
    contract = { prefix: uniquePrefix(), commands: connect() };
    const broadcaster = await startBroadcaster(contract.prefix, contract.commands);
    return { broadcaster, history: broadcaster };
  },
  // Redis keeps its own time: moving it forward by `ms` is taking `ms` off every TTL of the test's
  // keys (a TTL that runs out deletes the key, as Redis would have).
  async (ms) => {
    const commands = contract.commands!;
    for (const key of await commands.keys(`${contract.prefix}*`)) {
      const left = await commands.pttl(key);
      if (left > 0) await commands.pexpire(key, Math.max(0, left - ms));
    }
  },
);

describe("redis idempotent publish", () => {
  it("leaves nothing behind when a publish fails: no message on any channel, and the key free for a retry", async () => {
    const prefix = uniquePrefix();
    const commands = connect();
    const broadcaster = await startBroadcaster(prefix, commands);
    const seen: ChannelMessage[] = [];
    broadcaster.onMessage((message) => void (message.meta && seen.push(message)));
    const drafts = ["user.1", "user.2"].map((channel, i) => ({ channel, event: "e", data: { i }, id: "k" }));
    // A history key holding a string makes the script fail on user.2; user.1 comes first, so a
    // publish that wrote it before failing would show there.
    await commands.set(`${prefix}h:user.2`, "not a stream");
    await expect(broadcaster.publishOnce("k", 60, drafts)).rejects.toThrow();
    await flush(broadcaster, seen);
    expect(seen).toEqual([]);
    expect((await broadcaster.since("user.1", "0-0")).messages).toEqual([]);

    await commands.del(`${prefix}h:user.2`);
    const retry = await broadcaster.publishOnce("k", 60, drafts);
    expect(retry.duplicate).toBe(false);
    const again = await broadcaster.publishOnce("k", 60, drafts);
    expect(again).toMatchObject({ duplicate: true, previous: { id: "k" } });
    await flush(broadcaster, seen);
    expect(seen.map((m) => m.channel)).toEqual(["user.1", "user.2"]);
  });

  it("answers a key still claimed by an older node's publish in progress as a duplicate without a result", async () => {
    const prefix = uniquePrefix();
    const commands = connect();
    const broadcaster = await startBroadcaster(prefix, commands);
    const seen: ChannelMessage[] = [];
    broadcaster.onMessage((message) => void (message.meta && seen.push(message)));
    // What a node before the single-script publish writes between its claim and its result.
    await commands.set(`${prefix}idem:k`, "pending", "EX", 60);
    const draft = { channel: "user.1", event: "e", data: {}, id: "k" };
    expect(await broadcaster.publishOnce("k", 60, [draft])).toEqual({ duplicate: true, previous: undefined });
    const publisher = new Publisher({ broadcaster, idempotencyTtlS: 60 });
    const command = { event: "e", target: "user" as const, channels: ["user.1"], data: {}, id: "k" };
    // The HTTP layer answers this `{success:true, id:"k", duplicate:true, channels:0}`, as before.
    expect(await publisher.publish(command)).toEqual({ duplicate: true, id: "k", channels: [] });
    await flush(broadcaster, seen);
    expect(seen).toEqual([]);
  });

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
    });
    await broadcaster.start();
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
  it("reaps a dead node's sockets after NODE_TTL_MS: one offline per user left with none", async () => {
    const time = new ManualTime();
    const prefix = uniquePrefix();
    const options = { prefix, nodeTtlMs: 1000, graceMs: 500, onError: fail, clock: time, scheduler: time };
    const clientA = connect();
    const nodeA = new RedisPresenceStore({ ...options, redis: clientA, nodeId: "a", onError: () => undefined });
    const nodeB = new RedisPresenceStore({ ...options, redis: connect(), nodeId: "b" });
    nodeA.startHeartbeat();
    nodeB.startHeartbeat();
    await nodeA.connect("1", "a1", time.now());
    await nodeA.connect("2", "a2", time.now());
    await nodeB.connect("2", "b2", time.now());
    clientA.disconnect(); // A dies without cleanup, like kill -9: its heartbeats stop

    await time.advance(options.nodeTtlMs - 1); // B keeps beating; A's last beat is not yet too old
    expect(await nodeB.takeExpired(time.now())).toEqual([]);
    await time.advance(1); // A is dead: its sockets go, user 1 waits out the grace
    expect(await nodeB.takeExpired(time.now())).toEqual([]);
    await time.advance(options.graceMs);
    expect(await nodeB.takeExpired(time.now())).toEqual(["1"]);
    expect((await nodeB.lookup(["2"])).get("2")).toMatchObject({ online: true, connections: 1 });
    await nodeA.stop();
    await nodeB.stop();
  });

  it("marks a stopped node dead at once, so that what it still held is reaped by the next sweep", async () => {
    const prefix = uniquePrefix();
    const options = { prefix, nodeTtlMs: 60_000, graceMs: 0, onError: fail };
    const nodeA = new RedisPresenceStore({ ...options, redis: connect(), nodeId: "a" });
    const nodeB = new RedisPresenceStore({ ...options, redis: connect(), nodeId: "b" });
    nodeA.startHeartbeat();
    await nodeA.connect("1", "a1", Date.now());
    await nodeA.stop();
    expect(await nodeB.takeExpired(Date.now())).toEqual(["1"]);
    expect(await nodeB.takeExpired(Date.now())).toEqual([]);
  });

  it("registers a node's sockets again when Redis comes back empty", async () => {
    const own = await startRedis();
    const client = new Redis(own.url, { enableAutoPipelining: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
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

describe("redis presence channels (Echo) across nodes", () => {
  it("reaps a dead node's memberships after NODE_TTL_MS: one leave per user left with no socket there", async () => {
    const time = new ManualTime();
    const prefix = uniquePrefix();
    const options = { prefix, nodeTtlMs: 1000, graceMs: 500, onError: fail, clock: time, scheduler: time };
    const clientA = connect();
    const nodeA = new RedisChannelMembers({ ...options, redis: clientA, nodeId: "a", onError: () => undefined });
    const nodeB = new RedisChannelMembers({ ...options, redis: connect(), nodeId: "b" });
    nodeA.startHeartbeat();
    nodeB.startHeartbeat();
    const one = { user_id: 1, user_info: { name: "one" } };
    const two = { user_id: 2, user_info: { name: "two" } };
    await nodeA.join("presence-chat.1", one, "a1", time.now());
    await nodeA.join("presence-chat.1", two, "a2", time.now());
    await nodeB.join("presence-chat.1", two, "b2", time.now());
    clientA.disconnect(); // A dies without cleanup, like kill -9: its heartbeats stop

    await time.advance(options.nodeTtlMs - 1); // B keeps beating; A's last beat is not yet too old
    expect(await nodeB.takeExpired(time.now())).toEqual([]);
    await time.advance(1); // A is dead: its memberships go, user 1 waits out the grace
    expect(await nodeB.takeExpired(time.now())).toEqual([]);
    await time.advance(options.graceMs);
    expect(await nodeB.takeExpired(time.now())).toEqual([{ channel: "presence-chat.1", member: one }]);
    expect(await nodeB.list("presence-chat.1")).toEqual([two]);
    await nodeA.stop();
    await nodeB.stop();
  });
});
