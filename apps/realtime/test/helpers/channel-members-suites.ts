import type { EchoMember } from "@mechamap/protocol";
import { Cluster } from "ioredis";
import type { RedisClient } from "../../src/cluster/redis-connections";
import { KeySpace, slotOf } from "../../src/cluster/key-space";
import type { ChannelMemberLeft, Scheduler } from "../../src/core/ports";
import { NodeHeartbeat } from "../../src/presence/node-heartbeat";
import { RedisChannelMembers } from "../../src/presence/redis-channel-members";
import { RedisPresenceStore } from "../../src/presence/redis-presence-store";
import { channelMembersContract } from "../contracts/channel-members.contract";
import { ManualTime } from "./manual-time";
import { until } from "./node";
import { uniquePrefix } from "./redis";

const fail = (error: unknown): never => {
  throw error;
};

/** A killed process's timers: they never run (its first beat went at once, before it died). */
const deadScheduler: Scheduler = { after: () => () => undefined, every: () => () => undefined };

const member = (id: number): EchoMember => ({ user_id: id, user_info: { name: `user ${id}` } });
const byChannelAndUser = (a: ChannelMemberLeft, b: ChannelMemberLeft): number =>
  a.channel === b.channel ? Number(a.member.user_id) - Number(b.member.user_id) : a.channel < b.channel ? -1 : 1;

/**
 * Echo's presence-channel members (redis-channel-members.ts) on whatever `connect` opens: a single
 * Redis or a Redis Cluster, same code and keys. The contract, then several nodes sharing a Redis:
 * a dead node's reaping, exactly once however many nodes sweep; one heartbeat for user presence
 * and channel members; registering again what Redis lost.
 */
export function channelMembersSuites(name: string, connect: () => RedisClient): void {
  const clients: RedisClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  const open = (): RedisClient => {
    const client = connect();
    clients.push(client);
    return client;
  };
  /**
   * Starts heartbeats and waits until each first beat is in Redis: a node killed before its first
   * beat landed would never count as dead.
   */
  const startBeating = async (prefix: string, ...nodes: Array<{ startHeartbeat(): void }>): Promise<void> => {
    for (const node of nodes) node.startHeartbeat();
    const redis = open();
    const key = new KeySpace(prefix).heartbeats();
    await until(async () => (await redis.zcard(key)) === nodes.length, 5000, "the first heartbeats");
  };

  channelMembersContract(
    name,
    () =>
      new RedisChannelMembers({
        redis: open(),
        prefix: uniquePrefix(),
        nodeId: "n1",
        nodeTtlMs: 15000,
        graceMs: 5000,
        onError: fail,
      }),
  );

  describe(`${name} presence channels (Echo) across nodes`, () => {
    /** Nodes on one Redis and one manual time; `kill` is A's kill -9: its client cut, its timers dead. */
    const setUp = (nodeTtlMs = 1000, graceMs = 500) => {
      const time = new ManualTime();
      const prefix = uniquePrefix();
      const options = { prefix, nodeTtlMs, graceMs, onError: fail, clock: time, scheduler: time };
      const clientA = open();
      const nodeA = new RedisChannelMembers({
        ...options,
        redis: clientA,
        nodeId: "a",
        onError: () => undefined,
        scheduler: deadScheduler,
      });
      const node = (nodeId: string) => new RedisChannelMembers({ ...options, redis: open(), nodeId });
      const kill = () => {
        clientA.disconnect();
        // Only stops its timer: its last write would wait for ever on a cut-off Cluster client.
        void nodeA.stop();
      };
      return { time, prefix, options, nodeA, node, kill };
    };

    it("reaps a dead node's memberships after NODE_TTL_MS: one leave per user left with no socket there", async () => {
      const { time, prefix, options, nodeA, node, kill } = setUp();
      const nodeB = node("b");
      await startBeating(prefix, nodeA, nodeB);
      await nodeA.join("presence-chat.1", member(1), "a1", time.now());
      await nodeA.join("presence-chat.1", member(2), "a2", time.now());
      await nodeB.join("presence-chat.1", member(2), "b2", time.now());
      kill();

      await time.advance(options.nodeTtlMs - 1); // B keeps beating; A's last beat is not yet too old
      expect(await nodeB.takeExpired(time.now())).toEqual([]);
      await time.advance(1); // A is dead: its memberships go, user 1 waits out the grace
      expect(await nodeB.takeExpired(time.now())).toEqual([]);
      expect(await nodeB.list("presence-chat.1")).toHaveLength(2);
      await time.advance(options.graceMs);
      expect(await nodeB.takeExpired(time.now())).toEqual([{ channel: "presence-chat.1", member: member(1) }]);
      expect(await nodeB.list("presence-chat.1")).toEqual([member(2)]);
      await nodeB.stop();
    });

    it("reaps a dead node's members in many channels exactly once while two nodes sweep at the same time", async () => {
      const { time, prefix, options, nodeA, node, kill } = setUp();
      const [nodeB, nodeC] = [node("b"), node("c")];
      await startBeating(prefix, nodeA, nodeB, nodeC);
      // 40 channels (over every master of a Cluster), 3 users each on A; user 1 also on B in each.
      const channels = Array.from({ length: 40 }, (_, i) => `presence-room.${i}`);
      for (const channel of channels) {
        for (const id of [1, 2, 3]) await nodeA.join(channel, member(id), `a-${channel}-${id}`, time.now());
        await nodeB.join(channel, member(1), `b-${channel}`, time.now());
      }
      kill();

      const left: ChannelMemberLeft[] = [];
      const sweepBoth = async () => {
        const [fromB, fromC] = await Promise.all([nodeB.takeExpired(time.now()), nodeC.takeExpired(time.now())]);
        left.push(...fromB, ...fromC);
      };
      for (let step = 0; step < 8; step++) {
        await time.advance((options.nodeTtlMs + options.graceMs) / 4);
        await sweepBoth();
      }
      const expected = channels.flatMap((channel) => [2, 3].map((id) => ({ channel, member: member(id) })));
      expect(left.sort(byChannelAndUser)).toEqual(expected.sort(byChannelAndUser));
      for (const channel of channels) expect(await nodeB.list(channel)).toEqual([member(1)]);
      await Promise.all([nodeB.stop(), nodeC.stop()]);
    });

    it("reaps a dead node holding more channels than one page, all in one leave bucket: every leave once", async () => {
      const { time, prefix, options, nodeA, node, kill } = setUp();
      const nodeB = node("b");
      await startBeating(prefix, nodeA, nodeB);
      // 300 channels in one leave bucket: the dead node's set is read in SSCAN pages, and the 600
      // index entries of their leaves fill three pages of that bucket.
      const keys = new KeySpace(prefix);
      const channels: string[] = [];
      for (let i = 0; channels.length < 300; i++) {
        if (keys.memberLeavesBucket(`presence-page.${i}`) === 0) channels.push(`presence-page.${i}`);
      }
      await Promise.all(channels.map((channel) => nodeA.join(channel, member(1), `a-${channel}`, time.now())));
      kill();

      await time.advance(options.nodeTtlMs);
      expect(await nodeB.takeExpired(time.now())).toEqual([]);
      await time.advance(options.graceMs);
      const reaped = await nodeB.takeExpired(time.now());
      expect(reaped.map((left) => left.channel).sort()).toEqual([...channels].sort());
      expect(reaped.every((left) => left.member.user_id === 1)).toBe(true);
      expect(await nodeB.takeExpired(time.now() + options.graceMs)).toEqual([]);
      expect(await open().zcard(keys.memberLeaves(0))).toBe(0);
      await nodeB.stop();
    });

    it("drops an index entry it cannot read instead of stopping its bucket's sweep at it", async () => {
      const { time, prefix, node } = setUp();
      const nodeB = node("b");
      const keys = new KeySpace(prefix);
      const channel = Array.from({ length: 64 }, (_, i) => `presence-junk.${i}`).find(
        (name) => keys.memberLeavesBucket(name) === 3,
      )!;
      const redis = open();
      await redis.zadd(keys.memberLeaves(3), 0, "not json");
      await nodeB.join(channel, member(1), "b1", time.now());
      await nodeB.leave(channel, "1", "b1", time.now());
      expect(await nodeB.takeExpired(time.now())).toEqual([{ channel, member: member(1) }]);
      expect(await redis.zcard(keys.memberLeaves(3))).toBe(0);
    });

    it("shares the node heartbeat with user presence: whichever store sweeps first, both reap the dead node", async () => {
      const time = new ManualTime();
      const prefix = uniquePrefix();
      const base = { prefix, nodeTtlMs: 1000, graceMs: 500, clock: time };
      const nodeOf = (nodeId: string, redis: RedisClient, scheduler: Scheduler, onError: (e: unknown) => void) => {
        const heartbeat = new NodeHeartbeat({ ...base, redis, nodeId, onError, scheduler });
        const options = { ...base, redis, nodeId, onError, scheduler, heartbeat };
        return { heartbeat, users: new RedisPresenceStore(options), channels: new RedisChannelMembers(options) };
      };
      const clientA = open();
      const a = nodeOf("a", clientA, deadScheduler, () => undefined);
      const b = nodeOf("b", open(), time, fail);
      await startBeating(
        prefix,
        { startHeartbeat: () => a.heartbeat.start() },
        { startHeartbeat: () => b.heartbeat.start() },
      );
      await a.users.connect("1", "a1", time.now());
      await a.channels.join("presence-chat.1", member(1), "a1", time.now());
      clientA.disconnect();
      void a.heartbeat.stop();

      await time.advance(base.nodeTtlMs);
      // User presence sweeps first and the node is forgotten; the channel members were reaped with it.
      expect(await b.users.takeExpired(time.now())).toEqual([]);
      expect(await b.channels.takeExpired(time.now())).toEqual([]);
      await time.advance(base.graceMs);
      expect(await b.channels.takeExpired(time.now())).toEqual([{ channel: "presence-chat.1", member: member(1) }]);
      expect(await b.users.takeExpired(time.now())).toEqual(["1"]);
      await b.heartbeat.stop();
    });

    it("reaps, when a node starts again under the same NODE_ID, what its crashed process left: once, in both stores", async () => {
      const time = new ManualTime();
      const prefix = uniquePrefix();
      const base = { prefix, nodeTtlMs: 1000, graceMs: 500, clock: time, scheduler: time };
      const nodeOf = (nodeId: string, redis: RedisClient, scheduler: Scheduler = time) => {
        const heartbeat = new NodeHeartbeat({ ...base, redis, nodeId, onError: fail, scheduler });
        const options = { ...base, redis, nodeId, onError: fail, scheduler, heartbeat };
        return { heartbeat, users: new RedisPresenceStore(options), channels: new RedisChannelMembers(options) };
      };
      const crashed = nodeOf("a", open(), deadScheduler);
      const b = nodeOf("b", open());
      await startBeating(
        prefix,
        { startHeartbeat: () => crashed.heartbeat.start() },
        { startHeartbeat: () => b.heartbeat.start() },
      );
      await crashed.users.connect("1", "a1", time.now());
      await crashed.channels.join("presence-chat.1", member(1), "a1", time.now());
      // The process dies (its timers with it) and starts again under the same id before NODE_TTL_MS.
      const again = nodeOf("a", open());
      await again.heartbeat.reapEarlierSelf();
      again.heartbeat.start();
      await again.channels.join("presence-chat.2", member(2), "a2", time.now());

      await time.advance(base.graceMs);
      const [left, offline] = [await b.channels.takeExpired(time.now()), await b.users.takeExpired(time.now())];
      expect(left).toEqual([{ channel: "presence-chat.1", member: member(1) }]);
      expect(offline).toEqual(["1"]);
      await time.advance(base.nodeTtlMs * 2); // the new process beats: nothing else is reaped
      expect(await b.channels.takeExpired(time.now())).toEqual([]);
      expect(await b.channels.list("presence-chat.2")).toEqual([member(2)]);
      await Promise.all([again.heartbeat.stop(), b.heartbeat.stop()]);
    });

    it("registers a node's memberships again when Redis lost them, at its next heartbeat", async () => {
      const { time, prefix, options, node } = setUp();
      const nodeB = node("b");
      await startBeating(prefix, nodeB);
      await nodeB.join("presence-chat.1", member(7), "b7", time.now());
      await nodeB.join("presence-chat.2", member(7), "b7", time.now());
      // What a failover that lost writes does to one channel's slot and to the node's index.
      const keys = new KeySpace(prefix);
      const redis = open();
      const stem = keys.channelMembers("presence-chat.1");
      await redis.del(stem);
      await redis.del(`${stem}:s:7`);
      await redis.del(`${stem}:n:b`);
      await redis.del(keys.nodeChannels("b"));
      expect(await nodeB.list("presence-chat.1")).toEqual([]);

      await time.advance(Math.floor(options.nodeTtlMs / 3));
      expect(await nodeB.list("presence-chat.1")).toEqual([member(7)]);
      expect((await redis.smembers(keys.nodeChannels("b"))).sort()).toEqual(["presence-chat.1", "presence-chat.2"]);
      await nodeB.stop();
    });

    it("checks a bounded turn of its channels a heartbeat, and in two beats every one of 300", async () => {
      const { time, prefix, options, node } = setUp();
      const nodeB = node("b");
      await startBeating(prefix, nodeB);
      const channels = Array.from({ length: 300 }, (_, i) => `presence-turn.${i}`);
      await Promise.all(channels.map((channel) => nodeB.join(channel, member(1), `b-${channel}`, time.now())));
      const keys = new KeySpace(prefix);
      const redis = open();
      const lose = (channel: string) => {
        const stem = keys.channelMembers(channel);
        return Promise.all([redis.del(stem), redis.del(`${stem}:s:1`), redis.del(`${stem}:n:b`)]);
      };
      await Promise.all(channels.map(lose));
      const listed = async () =>
        (await Promise.all(channels.map((channel) => nodeB.list(channel)))).filter((members) => members.length > 0);

      await time.advance(Math.floor(options.nodeTtlMs / 3));
      expect(await listed()).toHaveLength(256);
      await time.advance(Math.floor(options.nodeTtlMs / 3));
      expect(await listed()).toHaveLength(300);
      await nodeB.stop();
    });

    it("marks a stopped node dead at once, so that what it still held is reaped by the next sweep", async () => {
      const prefix = uniquePrefix();
      const options = { prefix, nodeTtlMs: 60_000, graceMs: 0, onError: fail };
      const nodeA = new RedisChannelMembers({ ...options, redis: open(), nodeId: "a" });
      const nodeB = new RedisChannelMembers({ ...options, redis: open(), nodeId: "b" });
      nodeA.startHeartbeat();
      await nodeA.join("presence-chat.1", member(1), "a1", Date.now());
      await nodeA.stop();
      expect(await nodeB.takeExpired(Date.now())).toEqual([{ channel: "presence-chat.1", member: member(1) }]);
      expect(await nodeB.takeExpired(Date.now())).toEqual([]);
    });

    it("keeps every key of a channel in the channel's slot, and spreads channels over the masters", async () => {
      const { time, prefix, node } = setUp();
      const nodeB = node("b");
      const channels = Array.from({ length: 12 }, (_, i) => `presence-slot.${i}`);
      for (const channel of channels) {
        await nodeB.join(channel, member(1), `b-${channel}`, time.now());
        await nodeB.join(channel, member(2), `b2-${channel}`, time.now());
        await nodeB.leave(channel, "2", `b2-${channel}`, time.now() + 100);
      }
      const redis = open();
      await redis.exists("any"); // a Cluster client knows its masters once connected
      const masters = redis instanceof Cluster ? redis.nodes("master") : [redis];
      expect(masters).toHaveLength(redis instanceof Cluster ? 3 : 1);
      const keyMasters = new Map<string, number>();
      for (const [i, master] of masters.entries()) {
        for (const key of await master.keys(`${prefix}{presence-slot.*`)) keyMasters.set(key, i);
      }
      const keys = new KeySpace(prefix);
      for (const channel of channels) {
        const own = [...keyMasters.keys()].filter((key) => key.startsWith(keys.channel(channel) + ":"));
        // :m, :m:s:1, :m:s:2 (emptied hashes vanish: 2's sockets are gone), :m:p, :m:n:b
        expect(own.map((key) => key.slice(keys.channel(channel).length)).sort()).toEqual([
          ":m",
          ":m:n:b",
          ":m:p",
          ":m:s:1",
        ]);
        expect(new Set(own.map(slotOf))).toEqual(new Set([slotOf(keys.channel(channel))]));
      }
      if (masters.length > 1) expect(new Set(keyMasters.values()).size).toBeGreaterThan(1);
    });
  });
}
