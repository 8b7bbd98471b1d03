import { Cluster } from "ioredis";
import type { RedisClient } from "../../src/cluster/redis-connections";
import type { ChannelMessage, MessageDraft } from "../../src/core/ports";
import { KeySpace } from "../../src/cluster/key-space";
import { RedisBroadcaster } from "../../src/history/redis-broadcaster";
import { RedisPresenceStore } from "../../src/presence/redis-presence-store";
import { BatchedRateLimiter } from "../../src/state/batched-rate-limiter";
import { RedisRateLimiter } from "../../src/state/redis-rate-limiter";
import { historyContract } from "../contracts/history.contract";
import { flush, idempotentPublishContract, until } from "../contracts/idempotent-publish.contract";
import { presenceStoreContract } from "../contracts/presence-store.contract";
import { rateLimiterContract } from "../contracts/rate-limiter.contract";
import { ManualTime } from "./manual-time";
import { uniquePrefix } from "./redis";

const CONTRACT_CHANNELS = ["thread.1", "thread.2", "user.1", "user.2", "user.3", "presence.1", "flush"];

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
  rateLimiterContract(`${name} (batched)`, () => new BatchedRateLimiter(open(), uniquePrefix(), new ManualTime()));
  describe(`${name} BatchedRateLimiter across nodes`, () => {
    it("counts the other nodes' hits once they flushed, and forgets past seconds", async () => {
      const time = new ManualTime();
      const prefix = uniquePrefix();
      const [a, b] = [
        new BatchedRateLimiter(open(), prefix, time, time),
        new BatchedRateLimiter(open(), prefix, time, time),
      ];
      const allowed = async (limiter: BatchedRateLimiter, hits: number) =>
        (await Promise.all(Array.from({ length: hits }, () => limiter.hit("api:k", 8)))).filter((v) => v.allowed)
          .length;
      expect(await allowed(a, 5)).toBe(5);
      await a.flush();
      await b.flush();
      await allowed(b, 1); // B's first hit of the second: it learns of A's five with its next flush
      await b.flush();
      expect(await allowed(b, 4)).toBe(2); // 5 (A) + 1 + 2 = 8
      await b.flush();
      await a.flush();
      expect(await allowed(a, 1)).toBe(0); // A now knows of B's
      await time.advance(1000);
      expect(await allowed(a, 1)).toBe(1); // a new second
      a.stop();
      b.stop();
    });
  });
  historyContract(name, async (size) => {
    const broadcaster = await startBroadcaster(uniquePrefix(), open(), size);
    return { broadcaster, history: broadcaster };
  });
  /** The keys of the contract test running now (its prefix), whose time `advance` moves. */
  let contract = { prefix: "", commands: undefined as RedisClient | undefined };
  idempotentPublishContract(
    name,
    async () => {
      const prefix = uniquePrefix();
      const commands = open();
      contract = { prefix, commands };
      const broadcaster = await startBroadcaster(prefix, commands);
      return { broadcaster, history: broadcaster };
    },
    // Redis keeps its own time: moving it forward by `ms` is taking `ms` off every TTL of the test's
    // keys (a TTL that runs out deletes the key, as Redis would have). On a Cluster, on every master.
    async (ms) => {
      const commands = contract.commands!;
      const masters = commands instanceof Cluster ? commands.nodes("master") : [commands];
      for (const master of masters) {
        for (const key of await master.keys(`${contract.prefix}*`)) {
          const left = await commands.pttl(key);
          if (left > 0) await commands.pexpire(key, Math.max(0, left - ms));
        }
      }
    },
  );

  describe(`${name} idempotent publish failures`, () => {
    const drafts = (id: string, ...channels: string[]): MessageDraft[] =>
      channels.map((channel, i) => ({ channel, event: "e", data: { i }, id }));
    /** A broadcaster, what it delivers, and a way to make every publish to a channel fail inside Redis. */
    const setUp = async () => {
      const prefix = uniquePrefix();
      const commands = open();
      const broadcaster = await startBroadcaster(prefix, commands);
      const seen: ChannelMessage[] = [];
      broadcaster.onMessage((message) => void (message.meta && seen.push(message)));
      /** Its history key holds a string: the script fails before its first write. Resolves with the repair. */
      const breakChannel = async (channel: string): Promise<() => Promise<void>> => {
        const key = new KeySpace(prefix).history(channel);
        await commands.set(key, "not a stream");
        return async () => void (await commands.del(key));
      };
      return { broadcaster, seen, breakChannel };
    };

    it("leaves nothing behind when the publish of a channel fails: no message, and the key free for a retry", async () => {
      const { broadcaster, seen, breakChannel } = await setUp();
      const repair = await breakChannel("user.1");
      await expect(broadcaster.publishOnce("k", 60, drafts("k", "user.1"))).rejects.toThrow();
      await flush(broadcaster, seen);
      expect(seen).toEqual([]);
      await repair();
      expect((await broadcaster.since("user.1", "0-0")).messages).toEqual([]);
      const retry = await broadcaster.publishOnce("k", 60, drafts("k", "user.1"));
      expect(retry.duplicate).toBe(false);
      await until(() => seen.length === 1);
      await flush(broadcaster, seen);
      expect(seen).toHaveLength(1);
    });

    it("completes on a retry only the channels a failed attempt left undone, and delivers nothing twice", async () => {
      const { broadcaster, seen, breakChannel } = await setUp();
      const channels = ["user.1", "user.2", "user.3"];
      const repair = await breakChannel("user.2");
      await expect(broadcaster.publishOnce("k", 60, drafts("k", ...channels))).rejects.toThrow();
      await until(() => seen.length === 2);
      const firstOffsets = new Map(seen.map((m) => [m.channel, m.meta?.offset]));
      expect([...firstOffsets.keys()].sort()).toEqual(["user.1", "user.3"]);
      await repair();
      const retry = await broadcaster.publishOnce("k", 60, drafts("k", ...channels));
      // Not every part was done before, so this is no duplicate; the done parts keep their offsets.
      if (retry.duplicate) throw new Error("expected the retry to complete the broadcast");
      expect(retry.metas.map((meta) => [meta.id, meta.channel])).toEqual(channels.map((channel) => ["k", channel]));
      expect(retry.metas[0].offset).toBe(firstOffsets.get("user.1"));
      expect(retry.metas[2].offset).toBe(firstOffsets.get("user.3"));
      await until(() => seen.length === 3);
      const previous = { id: "k", channels: retry.metas.map(({ channel, offset }) => ({ channel, offset })) };
      expect(await broadcaster.publishOnce("k", 60, drafts("k", ...channels))).toEqual({ duplicate: true, previous });
      await flush(broadcaster, seen);
      expect(seen.map((m) => m.channel).sort()).toEqual(channels);
      expect(seen.every((m) => m.meta?.id === "k")).toBe(true);
    });
  });

  describe(`${name} presence across nodes`, () => {
    it("reaps a dead node's sockets after NODE_TTL_MS: one offline per user left with none", async () => {
      const time = new ManualTime();
      const prefix = uniquePrefix();
      const options = { prefix, nodeTtlMs: 1000, graceMs: 500, onError: fail, clock: time, scheduler: time };
      const clientA = open();
      // A's timers never run (its first beat goes at once): after that, A is a killed process. Its
      // heartbeat must not run on the moved clock, as its commands would wait for ever on a cut-off Cluster client.
      const dead = { after: () => () => undefined, every: () => () => undefined };
      const nodeA = new RedisPresenceStore({
        ...options,
        redis: clientA,
        nodeId: "a",
        onError: () => undefined,
        scheduler: dead,
      });
      const nodeB = new RedisPresenceStore({ ...options, redis: open(), nodeId: "b" });
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
