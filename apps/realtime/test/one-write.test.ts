import type Redis from "ioredis";
import type { Socket } from "node:net";
import { inOneWrite } from "../src/cluster/one-write";
import { createRedisConnections, RedisConnections, whenReady } from "../src/cluster/redis-connections";
import { RedisScript } from "../src/cluster/redis-script";
import { RedisBroadcaster } from "../src/history/redis-broadcaster";
import { RedisChannelMembers } from "../src/presence/redis-channel-members";
import { RedisPresenceStore } from "../src/presence/redis-presence-store";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";

/**
 * The command connection sends a command when it is issued (no auto-pipelining: one Pipeline per
 * command cost CPU on every broadcast); a call that sends many at once corks the connection, so
 * they leave in one write. Seen from the node's own socket to Redis: its stream's write calls.
 */
let redis: TestRedis;
let connections: RedisConnections;
beforeAll(async () => {
  redis = await startRedis();
  connections = createRedisConnections({ url: redis.url, clusterNodes: [] }, "test");
  await whenReady(connections.commands, 5000);
  await RedisScript.keepLoaded(connections.commands);
});
afterAll(async () => {
  await connections.close();
  await redis.stop();
});

/** Chunks per write the stream hands to the kernel (Node's `_write` takes one, `_writev` several). */
function writesOf(stream: Socket): { chunks: number[]; stop(): void } {
  const internals = stream as unknown as {
    _write(chunk: unknown, encoding: string, cb: () => void): void;
    _writev(chunks: unknown[], cb: () => void): void;
  };
  const chunks: number[] = [];
  const { _write, _writev } = internals;
  internals._write = function (chunk, encoding, cb) {
    chunks.push(1);
    _write.call(this, chunk, encoding, cb);
  };
  internals._writev = function (list, cb) {
    chunks.push(list.length);
    _writev.call(this, list, cb);
  };
  return {
    chunks,
    stop() {
      internals._write = _write;
      internals._writev = _writev;
    },
  };
}

/** A presence store's options on the test's command connection, under a prefix of its own. */
const presenceOptions = () => ({
  redis: connections.commands,
  prefix: uniquePrefix(),
  nodeId: "n0",
  nodeTtlMs: 600,
  graceMs: 500,
  onError: () => undefined,
});

describe("commands to Redis", () => {
  it("leave one write each when issued one by one, and one write together inside inOneWrite", async () => {
    const { commands } = connections;
    const prefix = uniquePrefix();
    const writes = writesOf((commands as Redis).stream as Socket);
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => commands.set(`${prefix}a${i}`, i)));
      // Not auto-pipelined: no Pipeline gathers them for a later write.
      expect(writes.chunks.length).toBeGreaterThan(1);
      expect(writes.chunks.reduce((a, b) => a + b, 0)).toBe(20);

      writes.chunks.length = 0;
      const replies = inOneWrite(commands, () =>
        Array.from({ length: 20 }, (_, i) => commands.set(`${prefix}b${i}`, i)),
      );
      expect(writes.chunks).toEqual([20]);
      expect(await Promise.all(replies)).toEqual(Array.from({ length: 20 }, () => "OK"));
      expect(await commands.get(`${prefix}b19`)).toBe("19");
    } finally {
      writes.stop();
    }
  });

  it("of a broadcast to many channels leave in one write, and each channel gets its offset", async () => {
    const { commands, subscriber } = connections;
    const broadcaster = new RedisBroadcaster({
      commands,
      subscriber,
      prefix: uniquePrefix(),
      historySize: 100,
      historyTtlS: 60,
      nodeId: "n0",
      lingerMs: 0,
      waitTimeoutMs: 0,
    });
    const drafts = Array.from({ length: 30 }, (_, i) => ({ channel: `user.${i}`, event: "e", data: { i }, id: "b1" }));
    const writes = writesOf((commands as Redis).stream as Socket);
    try {
      const metas = await broadcaster.publish(drafts);
      expect(writes.chunks).toEqual([30]);
      expect(metas.map((meta) => meta.channel)).toEqual(drafts.map((draft) => draft.channel));
      expect(metas.every((meta) => /^\d+-\d+$/.test(meta.offset))).toBe(true);

      writes.chunks.length = 0;
      const outcome = await broadcaster.publishOnce("key-1", 60, drafts);
      // The 30 scripts, then the mark that this attempt completed the key's broadcast (SET NX).
      expect(writes.chunks).toEqual([30, 1]);
      expect(outcome.duplicate).toBe(false);
    } finally {
      writes.stop();
      broadcaster.stop();
    }
  });

  it("of a presence lookup of many users leave in one write", async () => {
    const { commands } = connections;
    const store = new RedisPresenceStore(presenceOptions());
    await store.connect("7", "socket-a", Date.now());
    const users = Array.from({ length: 10 }, (_, i) => String(i + 1));
    const writes = writesOf((commands as Redis).stream as Socket);
    try {
      const found = await store.lookup(users);
      // Three reads a user.
      expect(writes.chunks).toEqual([30]);
      expect(found.get("7")).toMatchObject({ online: true, connections: 1 });
      expect(found.get("8")).toMatchObject({ online: false, connections: 0 });
    } finally {
      writes.stop();
    }
  });

  it("of the presence sweeps leave in one write for all 16 buckets", async () => {
    const { commands } = connections;
    const options = presenceOptions();
    const store = new RedisPresenceStore(options);
    const members = new RedisChannelMembers(options);
    const now = Date.now();
    await store.connect("7", "socket-a", now);
    await store.disconnect("7", "socket-a", now);
    const writes = writesOf((commands as Redis).stream as Socket);
    try {
      // The dead nodes' read (node-heartbeat.ts), then one script per bucket.
      expect(await store.takeExpired(now + 1000)).toEqual(["7"]);
      expect(writes.chunks).toEqual([1, 16]);

      writes.chunks.length = 0;
      expect(await members.takeExpired(now + 1000)).toEqual([]);
      // The dead nodes' read, then each bucket's page of due leaves.
      expect(writes.chunks).toEqual([1, 16]);

      writes.chunks.length = 0;
      expect(await store.listOnline(10, null)).toMatchObject({ count: 0, userIds: [] });
      // A count and a page per bucket.
      expect(writes.chunks).toEqual([32]);
    } finally {
      writes.stop();
    }
  });
});
