import Redis from "ioredis";
import { RedisLaravelInbox } from "../src/ingest/redis-laravel-inbox";
import { createRedisState } from "../src/state/redis-state";
import { collect, echoClient } from "./helpers/echo";
import { connected, json, record, request, startNode, tokenFor, until, TestNode } from "./helpers/node";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";

/**
 * Laravel's own RedisBroadcaster (BROADCAST_DRIVER=redis) as a way in: a Redis client doing exactly
 * what Laravel 8's does (its Lua script and payload, below), against two real nodes. The real
 * framework doing it is packages/laravel's LaravelBroadcastingTest.
 */
let redis: TestRedis;
let laravel: Redis;
beforeAll(async () => {
  redis = await startRedis();
  laravel = new Redis(redis.url);
});
afterAll(async () => {
  laravel.disconnect();
  await redis.stop();
});

/** Illuminate\Broadcasting\Broadcasters\RedisBroadcaster::broadcastMultipleChannelsScript(), verbatim. */
const LARAVEL_SCRIPT = "for i = 2, #ARGV do\n  redis.call('publish', ARGV[i], ARGV[1])\nend";

/** What `broadcast(new Event)` sends from Laravel 8: `socket` both in `data` and at the top. */
function laravelBroadcast(channels: string[], event: string, data: object, socket: string | null = null) {
  const payload = JSON.stringify({ event, data: { ...data, socket }, socket });
  return laravel.eval(LARAVEL_SCRIPT, 0, payload, ...channels);
}

async function cluster(env: Record<string, string> = {}): Promise<TestNode[]> {
  const prefix = uniquePrefix();
  const nodes: TestNode[] = [];
  for (const id of ["a", "b"]) {
    nodes.push(
      await startNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, NODE_ID: id, ...env }, (config) =>
        createRedisState(config, { onError: () => undefined }),
      ),
    );
  }
  return nodes;
}

/** Who holds the inbox lease: `<node id>:<random>`. The first node started takes it as it starts. */
const leaseHolder = (node: TestNode): Promise<string | null> =>
  laravel.get(`${node.config.redisKeyPrefix}laravel-inbox:lease`);

describe("Laravel's Redis broadcaster as a way in", () => {
  it("delivers each event exactly once per Echo listener on both nodes, not once per node", async () => {
    const [a, b] = await cluster();
    const listeners = [
      await echoClient(a.url, { token: tokenFor(1) }),
      await echoClient(a.url, { token: tokenFor(2) }),
      await echoClient(b.url, { token: tokenFor(3) }),
    ];
    const got = listeners.map(() => collect());
    listeners.forEach((echo, i) => echo.channel("orders").listen(".order.created", got[i].push));
    await until(() =>
      listeners.every((echo, i) =>
        (i < 2 ? a : b).app.io
          .of("/")
          .adapter.rooms.get("orders")
          ?.has(echo.socketId() ?? ""),
      ),
    );

    for (let i = 1; i <= 20; i++) await laravelBroadcast(["laravel_database_orders"], "order.created", { id: i });
    await until(() => got.every((c) => c.got.length >= 20));
    await laravelBroadcast(["laravel_database_orders"], "order.created", { id: "marker" });
    await until(() => got.every((c) => c.got.length >= 21));
    for (const { got: events } of got) {
      expect(events.map((data) => data.id)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), "marker"]);
      expect(events[0]).toEqual({ id: 1, socket: null });
    }
  });

  it("honours `socket` as toOthers on every node", async () => {
    const [a, b] = await cluster();
    const sender = await echoClient(b.url, { token: tokenFor(1) });
    const others = [await echoClient(a.url, { token: tokenFor(2) }), await echoClient(b.url, { token: tokenFor(3) })];
    const got = [collect(), collect(), collect()];
    [sender, ...others].forEach((echo, i) => echo.channel("orders").listen(".e", got[i].push));
    await until(
      () =>
        a.app.io.of("/").adapter.rooms.get("orders")?.size === 1 &&
        b.app.io.of("/").adapter.rooms.get("orders")?.size === 2,
    );

    await laravelBroadcast(["laravel_database_orders"], "e", { n: 1 }, sender.socketId()!);
    await laravelBroadcast(["laravel_database_orders"], "e", { n: 2 });
    await until(() => got.every((c) => c.got.some((data) => data.n === 2)));
    expect(got.map((c) => c.got.map((data) => data.n))).toEqual([[2], [1, 2], [1, 2]]);
  });

  it("stamps what it takes in with offsets and keeps it in the history, like an API broadcast", async () => {
    const [a, b] = await cluster();
    const first = await connected(a.url, { auth: { token: tokenFor(1) } });
    await request(first, "subscribe", { thread_id: 7 });
    const seen = record(first);
    await laravelBroadcast(["laravel_database_thread.7"], "new_reply", { reply: 1 });
    await until(() => seen.length === 1);
    expect(seen[0].meta?.offset).toMatch(/^\d+-\d+$/);
    for (let reply = 2; reply <= 4; reply++) {
      await laravelBroadcast(["laravel_database_thread.7"], "new_reply", { reply });
    }
    await until(() => seen.length === 4);

    const later = await connected(b.url, { auth: { token: tokenFor(2) } });
    const replayed = record(later);
    const ack = await request(later, "subscribe", { thread_id: 7, since: seen[0].meta!.offset });
    expect(ack).toMatchObject({ ok: true, recovered: true });
    await until(() => replayed.length === 3);
    expect(replayed.map((e) => e.data.reply)).toEqual([2, 3, 4]);
    expect(replayed.map((e) => e.meta?.offset)).toEqual(seen.slice(1).map((e) => e.meta?.offset));
  });

  it("accepts Laravel 11's `<app>-database-` prefix through a pattern, and several channels in one EVAL", async () => {
    const [a] = await cluster({ ECHO_REDIS_PREFIX: "*_database_,*-database-" });
    const echo = await echoClient(a.url, { token: tokenFor(1) });
    const news = collect();
    const forum = collect();
    echo.channel("news").listen(".posted", news.push);
    echo.channel("forum.3").listen(".posted", forum.push);
    await until(() => ["news", "forum.3"].every((room) => a.app.io.of("/").adapter.rooms.get(room)?.size === 1));
    await laravelBroadcast(["mechamap-database-news", "my_forum_database_forum.3"], "posted", { n: 1 });
    await until(() => news.got.length === 1 && forum.got.length === 1);
    expect([news.got, forum.got]).toEqual([[{ n: 1, socket: null }], [{ n: 1, socket: null }]]);
  });

  it("drops malformed messages with a log line and keeps serving", async () => {
    const [a, b] = await cluster();
    const echo = await echoClient(b.url, { token: tokenFor(1) });
    const got = collect();
    echo.channel("orders").listen(".ok", got.push);
    await until(() => b.app.io.of("/").adapter.rooms.get("orders")?.size === 1);
    const garbage = [
      "not json",
      "[1,2,3]",
      JSON.stringify({ event: 5, data: {} }),
      JSON.stringify({ event: "disconnect", data: {} }),
      JSON.stringify({ event: "ok", data: "text" }),
      JSON.stringify({ event: "ok", data: {}, socket: { evil: true } }),
      '{"event":"ok","data":{"__proto__":{"polluted":true}}}',
      JSON.stringify({ event: "ok", data: { big: "x".repeat(200_000) } }),
    ];
    for (const payload of garbage) await laravel.publish("laravel_database_orders", payload);
    // Channels no client may name: a socket id's room (20 of [A-Za-z0-9_-]) and our `all`.
    for (const channel of ["a-socket-id-of-20chr", "all"]) {
      await laravel.publish(`laravel_database_${channel}`, JSON.stringify({ event: "ok", data: {} }));
    }
    await laravelBroadcast(["laravel_database_orders"], "ok", { fine: true });
    await until(() => got.got.length === 1);
    expect(got.got).toEqual([{ fine: true, socket: null }]);
    const dropped = a.logs.filter((line) => line.includes("laravel redis message dropped"));
    expect(dropped).toHaveLength(garbage.length + 2);
    expect(await json(fetch(`${a.url}/health`))).toMatchObject({ status: "ok" });
  });

  it("hands the intake over to the other node when the holder stops, without taking anything in twice", async () => {
    const [a, b] = await cluster();
    const echo = await echoClient(b.url, { token: tokenFor(1) });
    const got = collect();
    echo.channel("orders").listen(".e", got.push);
    await until(() => b.app.io.of("/").adapter.rooms.get("orders")?.size === 1);
    await laravelBroadcast(["laravel_database_orders"], "e", { n: 1 });
    await until(() => got.got.length === 1);

    expect(await leaseHolder(a)).toMatch(/^a:/);
    await a.stop();
    await until(async () => (await leaseHolder(b))?.startsWith("b:") === true, 5000, "takeover");
    await laravelBroadcast(["laravel_database_orders"], "e", { n: 2 });
    await until(() => got.got.length === 2);
    expect(got.got.map((data) => data.n)).toEqual([1, 2]);
  });
});

describe("the inbox lease", () => {
  it("passes to a standby node once a crashed holder's lease runs out, and never to two at once", async () => {
    const prefix = uniquePrefix();
    const make = (nodeId: string) => {
      const commands = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
      const subscriber = new Redis(redis.url);
      for (const client of [commands, subscriber]) client.on("error", () => undefined);
      const taken: string[] = [];
      const inbox = new RedisLaravelInbox({
        commands,
        subscriber,
        keyPrefix: prefix,
        laravelPrefixes: ["laravel_database_"],
        nodeId,
        leaseMs: 600,
        onError: () => undefined,
      });
      return { inbox, commands, subscriber, taken };
    };
    const a = make("a");
    const b = make("b");
    await a.inbox.start((channel) => a.taken.push(channel));
    await b.inbox.start((channel) => b.taken.push(channel));
    expect([a.inbox.holds(), b.inbox.holds()]).toEqual([true, false]);
    await laravel.publish("laravel_database_one", "{}");
    await until(() => a.taken.length === 1);

    // a dies without giving the lease up (kill -9): its connections drop, its timer runs on.
    a.commands.disconnect();
    a.subscriber.disconnect();
    const diedAt = Date.now();
    await until(() => b.inbox.holds(), 3000, "takeover");
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(300);
    expect(a.inbox.holds()).toBe(false);
    await laravel.publish("laravel_database_two", "{}");
    await until(() => b.taken.length === 1);
    expect([a.taken, b.taken]).toEqual([["one"], ["two"]]);
    await Promise.all([a.inbox.stop(), b.inbox.stop()]);
    b.commands.disconnect();
    b.subscriber.disconnect();
  });
});
