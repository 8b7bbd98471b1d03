import { compareOffsets } from "../src/core/offsets";
import { connected, flushEvents, json, record, request, tokenFor, until, TestNode } from "./helpers/node";
import { expectKickAndViewersAcrossNodes, startClusterNodes } from "./helpers/cluster-nodes";
import { ManualTime } from "./helpers/manual-time";
import { startRedisCluster, TestRedisCluster } from "./helpers/redis-cluster";

/**
 * Two in-process nodes on REDIS_CLUSTER_NODES alone (3 masters + 3 replicas): what answered 503 or
 * failed with CROSSSLOT before (many users, `all`, idempotency keys, presence) works as on one Redis.
 */
let redis: TestRedisCluster;
beforeAll(async () => {
  redis = await startRedisCluster();
}, 60_000);
afterAll(() => redis.stop());

/** `time`: one ManualTime shared by the nodes, for the tests that move time themselves. */
const cluster = (count: number, env: Record<string, string> = {}, time?: ManualTime): Promise<TestNode[]> =>
  startClusterNodes({ REDIS_CLUSTER_NODES: redis.nodes.join(",") }, count, env, time);

const userIds = Array.from({ length: 30 }, (_, i) => 100 + i);

describe("cluster mode on a Redis Cluster", () => {
  it("delivers a thread's broadcasts posted to either node to sockets on both, once each, in offset order", async () => {
    const [a, b] = await cluster(2);
    const onA = await connected(a.url, { auth: { token: tokenFor(1) } });
    const onB = await connected(b.url, { auth: { token: tokenFor(2) } });
    for (const socket of [onA, onB]) await request(socket, "subscribe", { thread_id: 5 });
    const [gotA, gotB] = [record(onA), record(onB)];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).api("/api/broadcast", { body: { event: "e", to: "thread", thread_id: 5, data: { i } } }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    await until(() => gotA.length === 20 && gotB.length === 20);
    const offsets = gotA.map((e) => e.meta!.offset);
    for (let k = 1; k < offsets.length; k++) expect(compareOffsets(offsets[k], offsets[k - 1])).toBeGreaterThan(0);
    expect(gotB.map((e) => e.meta!.offset)).toEqual(offsets);
  });

  it("sends to users in many slots once each, and answers repeats on another node as duplicates", async () => {
    const [a, b] = await cluster(2);
    const sockets = await Promise.all(
      userIds.map((id, i) => connected((i % 2 ? a : b).url, { auth: { token: tokenFor(id) } })),
    );
    const got = sockets.map(record);
    const body = { event: "e", to: "users", user_ids: userIds, data: { n: 1 }, id: "many-users" };
    const first = await json(a.api("/api/broadcast", { body }));
    expect(first).toEqual({ success: true, id: "many-users", channels: userIds.length });
    const repeats = await Promise.all(Array.from({ length: 10 }, () => json(b.api("/api/broadcast", { body }))));
    for (const repeat of repeats) expect(repeat).toEqual({ ...first, duplicate: true });
    await until(() => got.every((events) => events.length === 1));
    await flushEvents(b, { to: "users", user_ids: userIds }, ...got);
    expect(got.map((events) => events.length)).toEqual(Array(userIds.length).fill(1));
    expect(got.map((events) => events[0].meta!.channel)).toEqual(userIds.map((id) => `user.${id}`));
  });

  it("delivers `all` to every socket on every node", async () => {
    const [a, b] = await cluster(2);
    const sockets = await Promise.all(
      [1, 2, 3, 4].map((id) => connected((id % 2 ? a : b).url, { auth: { token: tokenFor(id) } })),
    );
    const got = sockets.map(record);
    expect((await b.api("/api/broadcast", { body: { event: "e", to: "all", data: {}, id: "to-all" } })).status).toBe(
      200,
    );
    await until(() => got.every((events) => events.length === 1));
  });

  it("keeps presence cluster-wide: one online, one offline, and lists the online users over every bucket", async () => {
    const time = new ManualTime();
    const [a, b] = await cluster(2, { PRESENCE_GRACE_MS: "200" }, time);
    const watcher = await connected(a.url, { auth: { token: tokenFor(1) } });
    expect(await request(watcher, "presence:watch", { user_ids: [42] })).toMatchObject({ ok: true, online: [] });
    const events = record(watcher);
    const tabs = await Promise.all([a, b].map((node) => connected(node.url, { auth: { token: tokenFor(42) } })));
    await until(() => events.length === 1);
    const others = await Promise.all(userIds.map((id) => connected(b.url, { auth: { token: tokenFor(id) } })));
    const online = await json(b.api(`/api/presence/online?limit=7`));
    expect(online.count).toBe(userIds.length + 2);
    const pages: string[] = [...online.user_ids];
    for (let cursor = online.next_cursor; cursor;) {
      const page = await json(a.api(`/api/presence/online?limit=7&cursor=${cursor}`));
      pages.push(...page.user_ids);
      cursor = page.next_cursor;
    }
    expect(pages).toEqual(["1", "42", ...userIds.map(String)].sort());
    for (const tab of tabs) tab.disconnect();
    const connections = async (): Promise<number> => (await json(b.api("/api/presence/users/42"))).connections;
    await until(async () => (await connections()) === 0, 5000, "both tabs gone");
    await time.advance(250); // the grace, and the first sweep past it
    await until(() => events.length === 2, 5000, "user_offline");
    await time.advance(400); // later sweeps: none may announce it again
    await flushEvents(a, { to: "user", user_id: 1 }, events);
    expect(events.map((e) => e.event)).toEqual(["user_online", "user_offline"]);
    for (const other of others) other.disconnect();
  });

  it("kicks a user's sockets on every node and lists viewers across nodes (the redis-adapter's requests)", async () => {
    await expectKickAndViewersAcrossNodes(await cluster(2));
  });

  it("answers 503 when no replica acknowledges in time, and the retry is a duplicate once one does", async () => {
    const [a] = await cluster(1, { REDIS_WAIT_TIMEOUT_MS: "300" });
    const socket = await connected(a.url, { auth: { token: tokenFor(5) } });
    const got = record(socket);
    const body = { event: "e", to: "user", user_id: 5, data: {}, id: "waited" };
    const stopped = (await redis.replicas()).map((port) => redis.pidOf(port)!);
    for (const pid of stopped) process.kill(pid, "SIGSTOP");
    try {
      const refused = await a.api("/api/broadcast", { body });
      expect(refused.status).toBe(503);
    } finally {
      for (const pid of stopped) process.kill(pid, "SIGCONT");
    }
    // The master has it (the socket got it live); the retry is answered from it, once a replica holds it.
    const retry = await json(a.api("/api/broadcast", { body }));
    expect(retry).toMatchObject({ success: true, id: "waited", duplicate: true, channel: "user.5" });
    await flushEvents(a, { to: "user", user_id: 5 }, got);
    expect(got.map((e) => e.meta!.id)).toEqual(["waited"]);
  });

  it("recovers on one node what was published through the other", async () => {
    const [a, b] = await cluster(2);
    for (let i = 1; i <= 5; i++)
      await a.api("/api/broadcast", { body: { event: "e", to: "thread", thread_id: 8, data: { i } } });
    const socket = await connected(b.url, { auth: { token: tokenFor(1) } });
    const got = record(socket);
    expect(await request(socket, "subscribe", { thread_id: 8, since: "0-1" })).toMatchObject({ ok: true });
    await until(() => got.length === 5);
    expect(got.map((e) => e.data.i)).toEqual([1, 2, 3, 4, 5]);
  });
});
