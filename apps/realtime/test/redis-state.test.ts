import Redis from "ioredis";
import { RedisBroadcaster } from "../src/history/redis-broadcaster";
import { RedisPresenceStore } from "../src/presence/redis-presence-store";
import { RedisIdempotencyStore } from "../src/state/redis-idempotency-store";
import { RedisRateLimiter } from "../src/state/redis-rate-limiter";
import { historyContract } from "./contracts/history.contract";
import { idempotencyStoreContract } from "./contracts/idempotency-store.contract";
import { presenceStoreContract } from "./contracts/presence-store.contract";
import { rateLimiterContract } from "./contracts/rate-limiter.contract";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";

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
idempotencyStoreContract(
  "redis",
  () => new RedisIdempotencyStore(connect(), uniquePrefix()),
  () => new Promise((resolve) => setTimeout(resolve, 1100)),
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

describe("redis presence across nodes", () => {
  it("reaps a dead node's sockets after NODE_TTL_MS: one offline per user left with none", async () => {
    const prefix = uniquePrefix();
    const options = { prefix, nodeTtlMs: 1000, graceMs: 500, onError: fail };
    const clientA = connect();
    const nodeA = new RedisPresenceStore({ ...options, redis: clientA, nodeId: "a", onError: () => undefined });
    const nodeB = new RedisPresenceStore({ ...options, redis: connect(), nodeId: "b" });
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
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const found = await store.lookup(["7"]).catch(() => undefined);
      if (found?.get("7")?.online) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await store.lookup(["7"])).get("7")).toMatchObject({ online: true, connections: 1 });
    await store.stop();
    await own.stop();
  });
});
