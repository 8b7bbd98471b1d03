import { compareOffsets } from "../src/core/offsets";
import Redis from "ioredis";
import { createRedisState } from "../src/state/redis-state";
import type { SharedState } from "../src/state/shared-state";
import { connected, flushEvents, json, record, request, startNode, tokenFor, until, TestNode } from "./helpers/node";
import { expectKickAndViewersAcrossNodes, startClusterNodes } from "./helpers/cluster-nodes";
import { ManualTime } from "./helpers/manual-time";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";

/** Two in-process nodes sharing one real Redis: the cluster's behaviour without nginx. */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

/** `time`: one ManualTime shared by the nodes, for the tests that move time themselves. */
const cluster = (count: number, env: Record<string, string> = {}, time?: ManualTime): Promise<TestNode[]> =>
  startClusterNodes({ REDIS_URL: redis.url }, count, env, time);

describe("cluster mode (Redis)", () => {
  it("reports redis ok on /health", async () => {
    const [a] = await cluster(1);
    expect(await json(fetch(`${a.url}/health`))).toMatchObject({ status: "ok", redis: "ok", node: "n0" });
  });

  it("delivers broadcasts posted to either node to sockets on both, once each, in offset order", async () => {
    const [a, b] = await cluster(2);
    const onA = await connected(a.url, { auth: { token: tokenFor(1) } });
    const onB = await connected(b.url, { auth: { token: tokenFor(2) } });
    for (const socket of [onA, onB]) await request(socket, "subscribe", { thread_id: 5 });
    const [gotA, gotB] = [record(onA), record(onB)];
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).api("/api/broadcast", { body: { event: "e", to: "thread", thread_id: 5, data: { i } } }),
      ),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    await until(() => gotA.length === 40 && gotB.length === 40);
    await flushEvents(a, { to: "thread", thread_id: 5 }, gotA, gotB);
    for (const got of [gotA, gotB]) {
      expect(got).toHaveLength(40);
      expect(new Set(got.map((e) => e.data.i)).size).toBe(40);
      const offsets = got.map((e) => e.meta!.offset);
      for (let k = 1; k < offsets.length; k++) expect(compareOffsets(offsets[k], offsets[k - 1])).toBeGreaterThan(0);
    }
    expect(gotA.map((e) => e.meta!.offset)).toEqual(gotB.map((e) => e.meta!.offset));
  });

  it("deduplicates an id cluster-wide", async () => {
    const [a, b] = await cluster(2);
    const socket = await connected(b.url, { auth: { token: tokenFor(1) } });
    const got = record(socket);
    const body = { event: "e", to: "user", user_id: 1, data: {}, id: "once-only" };
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => json((i % 2 ? a : b).api("/api/broadcast", { body }))),
    );
    expect(answers.filter((answer) => !answer.duplicate)).toHaveLength(1);
    await a.api("/api/broadcast", { body: { ...body, id: "after" } });
    await until(() => got.some((e) => e.meta?.id === "after"));
    expect(got.map((e) => e.meta?.id)).toEqual(["once-only", "after"]);
  });

  it("recovers on one node what was published through the other", async () => {
    const [a, b] = await cluster(2);
    const first = await connected(a.url, { auth: { token: tokenFor(1) } });
    const seen = record(first);
    await b.api("/api/broadcast", { body: { event: "e", to: "user", user_id: 1, data: { i: 0 } } });
    await until(() => seen.length === 1);
    first.disconnect();
    for (let i = 1; i <= 5; i++)
      await a.api("/api/broadcast", { body: { event: "e", to: "user", user_id: 1, data: { i } } });
    const again = await connected(b.url, { auth: { token: tokenFor(1) } });
    const got = record(again);
    expect(await request(again, "subscribe", { channel: "user.1", since: seen[0].meta!.offset })).toMatchObject({
      recovered: true,
    });
    await until(() => got.length === 5);
    expect(got.map((e) => e.data.i)).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps presence cluster-wide: a tab on each node, one online, one offline after both close", async () => {
    const time = new ManualTime();
    const [a, b] = await cluster(2, { PRESENCE_GRACE_MS: "200" }, time);
    const connections = async (): Promise<number> => (await json(b.api("/api/presence/users/42"))).connections;
    const watcher = await connected(a.url, { auth: { token: tokenFor(1) } });
    await request(watcher, "presence:watch", { user_ids: [42] });
    const events = record(watcher);
    const tabA = await connected(a.url, { auth: { token: tokenFor(42) } });
    const tabB = await connected(b.url, { auth: { token: tokenFor(42) } });
    await until(() => events.length === 1);
    expect(await json(b.api("/api/presence/users/42"))).toMatchObject({ online: true, connections: 2 });
    tabA.disconnect();
    await until(async () => (await connections()) === 1, 5000, "tab A gone");
    await time.advance(600);
    await flushEvents(b, { to: "user", user_id: 1 }, events);
    expect(events.map((e) => e.event)).toEqual(["user_online"]);
    tabB.disconnect();
    await until(async () => (await connections()) === 0, 5000, "tab B gone");
    await time.advance(250); // the grace, and the first sweep past it
    await until(() => events.length === 2, 5000, "user_offline");
    await time.advance(400);
    await flushEvents(a, { to: "user", user_id: 1 }, events);
    expect(events.map((e) => e.event)).toEqual(["user_online", "user_offline"]);
  });

  it("kicks a user's sockets on every node and lists viewers across nodes", async () => {
    await expectKickAndViewersAcrossNodes(await cluster(2));
  });

  it("sends a channel's events only to nodes holding a member, and lingers before unsubscribing", async () => {
    const prefix = uniquePrefix();
    const states: SharedState[] = [];
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, SUBSCRIPTION_LINGER_MS: "400" };
    // The nodes' linger runs on this clock: the test moves it past the linger, no sleeping.
    const time = new ManualTime();
    const start = (id: string) =>
      startNode(
        { ...env, NODE_ID: id },
        async (config) => {
          const state = await createRedisState(config, { onError: () => undefined, clock: time, scheduler: time });
          states.push(state);
          return state;
        },
        time,
      );
    const [a, b] = [await start("a"), await start("b")];
    const shard = `${prefix}{thread.21}`;
    const all = `${prefix}{all}`;
    const readBy = states.map((state) => {
      const subscriber = (state.broadcaster as unknown as { options: { subscriber: Redis } }).options.subscriber;
      const read: string[] = [];
      subscriber.on("smessage", (channel: string, text: string) => void (channel === shard && read.push(text)));
      return read;
    });
    const bSubscriber = (states[1].broadcaster as unknown as { options: { subscriber: Redis } }).options.subscriber;
    const allOnB: string[] = [];
    bSubscriber.on("smessage", (channel: string, text: string) => void (channel === all && allOnB.push(text)));
    const probe = new Redis(redis.url);
    const marker = new Redis(redis.url);
    const subscribers = async () => ((await probe.call("PUBSUB", "SHARDNUMSUB", shard)) as [string, number])[1];
    const monitor = await probe.monitor();
    const churn: string[] = [];
    const seenByMonitor: string[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      seenByMonitor.push(...args);
      if (/^s(un)?subscribe$/i.test(args[0]) && args.includes(shard)) churn.push(args[0].toLowerCase());
    });
    /** MONITOR lists commands in the order Redis ran them: once it lists a marker, it listed all before. */
    const monitorCaughtUp = async (): Promise<void> => {
      const id = `marker-${Math.random()}`;
      await marker.echo(id);
      await until(() => seenByMonitor.includes(id), 5000, "MONITOR to list the marker");
    };
    try {
      const onA = await connected(a.url, { auth: { token: tokenFor(1) } });
      await request(onA, "subscribe", { thread_id: 21 });
      const post = (i: number) =>
        b.api("/api/broadcast", { body: { event: "e", to: "thread", thread_id: 21, data: { i } } });
      for (let i = 0; i < 5; i++) expect((await post(i)).status).toBe(200);
      await until(() => readBy[0].length === 5);
      expect(await subscribers()).toBe(1);
      // B reads `all`: once a later broadcast to `all` reached it, any of the thread's would have too.
      expect((await b.api("/api/broadcast", { body: { event: "e", to: "all", data: {} } })).status).toBe(200);
      await until(() => allOnB.length === 1, 5000, "B to read the broadcast to all");
      expect(readBy[1]).toEqual([]); // B holds no member: it read none of the channel's events

      const onB = await connected(b.url, { auth: { token: tokenFor(2) } });
      await request(onB, "subscribe", { thread_id: 21 });
      const got = record(onB);
      await post(5);
      await until(() => got.length === 1 && readBy[1].length === 1);
      expect(await subscribers()).toBe(2);

      // A page reload: leave and come back within the linger, no unsubscribe and no subscribe.
      await request(onB, "unsubscribe", { thread_id: 21 });
      await request(onB, "subscribe", { thread_id: 21 });
      await time.advance(600);
      await monitorCaughtUp();
      expect(churn).toEqual(["ssubscribe", "ssubscribe"]); // A's first member, then B's: nothing since
      await request(onB, "unsubscribe", { thread_id: 21 });
      await time.advance(399);
      await monitorCaughtUp();
      expect(await subscribers()).toBe(2); // still lingering
      await time.advance(1);
      await until(async () => (await subscribers()) === 1, 3000, "B to unsubscribe after the linger");
      await until(() => churn.length === 3, 3000, "MONITOR to report it");
      expect(churn).toEqual(["ssubscribe", "ssubscribe", "sunsubscribe"]);
    } finally {
      monitor.disconnect();
      probe.disconnect();
      marker.disconnect();
    }
  });

  it("replays to its sockets what a node missed while its bus subscription was down", async () => {
    const prefix = uniquePrefix();
    const states: SharedState[] = [];
    const start = (id: string) =>
      startNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, NODE_ID: id }, async (config) => {
        const state = await createRedisState(config, { onError: () => undefined });
        states.push(state);
        return state;
      });
    const a = await start("a");
    const b = await start("b");
    const onB = await connected(b.url, { auth: { token: tokenFor(1) } });
    await request(onB, "subscribe", { thread_id: 9 });
    const got = record(onB);
    const post = (i: number) =>
      a.api("/api/broadcast", { body: { event: "e", to: "thread", thread_id: 9, data: { i } } });

    await post(0);
    await until(() => got.length === 1);
    // B's subscriber stops hearing its shard while its connection stays up (the failure the canary exists for).
    const subscriber = (states[1].broadcaster as unknown as { options: { subscriber: Redis } }).options.subscriber;
    const shardChannels = [`${prefix}{thread.9}`, `${prefix}{user.1}`, `${prefix}{all}`, `${prefix}{~canary.b.0}`];
    await subscriber.sunsubscribe(...shardChannels);
    for (let i = 1; i <= 10; i++) expect((await post(i)).status).toBe(200);
    await until(async () => (await fetch(`${b.url}/health`)).status === 503, 5000, "B to notice the silent shard");
    expect(got).toHaveLength(1); // two seconds of silence later: nothing came through the dead subscription
    await subscriber.ssubscribe(...shardChannels);
    // Live again before the canary says so: this one must not jump ahead of the replay of 1-10.
    await post(11);
    await until(() => got.length === 12, 5000, "the gap replay");
    for (let i = 12; i <= 13; i++) await post(i);
    await until(() => got.length === 14);
    await flushEvents(a, { to: "thread", thread_id: 9 }, got);
    expect(got.map((e) => e.data.i)).toEqual(Array.from({ length: 14 }, (_, i) => i));
  });

  it("answers 503 while Redis is down, keeps sockets, and resumes by itself when it returns", async () => {
    const own = await startRedis();
    const prefix = uniquePrefix();
    const node = await startNode({ REDIS_URL: own.url, REDIS_KEY_PREFIX: prefix }, (config) =>
      createRedisState(config, { onError: () => undefined }),
    );
    const socket = await connected(node.url, { auth: { token: tokenFor(4) } });
    const got = record(socket);
    const body = { event: "e", to: "user", user_id: 4, data: {} };
    await own.stop();
    const refused = await node.api("/api/broadcast", { body });
    expect(refused.status).toBe(503);
    await until(async () => (await fetch(`${node.url}/health`)).status === 503, 5000, "health to say degraded");
    expect(socket.connected).toBe(true);

    await own.start();
    await until(async () => (await fetch(`${node.url}/health`)).status === 200, 10000, "health to recover");
    expect((await node.api("/api/broadcast", { body })).status).toBe(200);
    await until(() => got.length === 1);
    await until(
      async () => (await json(node.api("/api/presence/users/4"))).online === true,
      10000,
      "presence re-registered",
    );
    await node.stop();
    await own.stop();
  });
});
