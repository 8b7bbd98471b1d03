import { compareOffsets } from "../src/core/offsets";
import { createRedisState } from "../src/state/redis-state";
import { connected, flushEvents, json, record, request, startNode, tokenFor, until, TestNode } from "./helpers/node";
import { uniquePrefix } from "./helpers/redis";
import { startRedisCluster, TestRedisCluster } from "./helpers/redis-cluster";

/**
 * A master's kill -9 while broadcasts are posted at ~40/s with Laravel-style retries (same id, the
 * other node, until a 2xx): every broadcast answered 2xx reaches every socket that stayed connected
 * exactly once, in offset order, and no socket is disconnected. Its own cluster: this one is broken.
 */
let redis: TestRedisCluster;
beforeAll(async () => {
  redis = await startRedisCluster();
}, 60_000);
afterAll(() => redis.stop());

const THREADS = Array.from({ length: 12 }, (_, i) => i + 1);

/**
 * The one deliberate wait here: the load's pace (~40 broadcasts/s) and a sender's back-off, in real
 * time, because the failover they run into is a real Redis Cluster's (its node timeout, in real time).
 */
const pace = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("a Redis Cluster master killed under load", () => {
  it("loses no accepted broadcast and delivers none twice; sockets stay connected", async () => {
    const prefix = uniquePrefix();
    const nodes: TestNode[] = [];
    for (const id of ["a", "b"]) {
      const env = { REDIS_CLUSTER_NODES: redis.nodes.join(","), REDIS_KEY_PREFIX: prefix, NODE_ID: id };
      nodes.push(await startNode(env, (config) => createRedisState(config, { onError: () => undefined })));
    }
    expect(await json(fetch(`${nodes[0].url}/health`))).toMatchObject({ status: "ok", durability: "replicated" });
    const sockets = await Promise.all(
      [0, 1, 2, 3].map((i) => connected(nodes[i % 2].url, { auth: { token: tokenFor(i + 1) } })),
    );
    const disconnects: string[] = [];
    for (const socket of sockets) {
      socket.on("disconnect", (reason) => disconnects.push(reason));
      for (const thread of THREADS) await request(socket, "subscribe", { thread_id: thread });
    }
    const got = sockets.map(record);

    // Twelve threads spread over the three masters: some of them are on this one.
    const [victim] = await redis.masters();
    const accepted = new Map<string, { thread: number; offset: string }>();
    let failures = 0;
    const post = async (i: number): Promise<void> => {
      const thread = THREADS[i % THREADS.length];
      const body = { event: "e", to: "thread", thread_id: thread, data: { i }, id: `f-${i}` };
      for (let attempt = 0; attempt < 100; attempt++) {
        const node = nodes[(i + attempt) % 2];
        const answer = await node.api("/api/broadcast", { body }).catch(() => undefined);
        if (answer?.status === 200) {
          const result = (await answer.json()) as { offset: string };
          accepted.set(body.id, { thread, offset: result.offset });
          return;
        }
        failures++;
        await pace(100);
      }
    };
    const posting: Array<Promise<void>> = [];
    const started = Date.now();
    for (let i = 0; Date.now() - started < 9000; i++) {
      posting.push(post(i));
      if (i === 80) await redis.kill(victim);
      await pace(25);
    }
    await Promise.all(posting);
    expect(accepted.size).toBe(posting.length);
    expect(failures).toBeGreaterThan(0); // the kill did hit the traffic

    const expected = [...accepted].sort(([, a], [, b]) => compareOffsets(a.offset, b.offset));
    await until(() => got.every((events) => events.length >= accepted.size), 20_000, "every socket to have everything");
    // A sentinel per thread: once each came, nothing published before it is still on its way.
    for (const thread of THREADS) await flushEvents(nodes[0], { to: "thread", thread_id: thread }, ...got);
    for (const events of got) {
      expect(events.map((e) => e.meta!.id).sort()).toEqual([...accepted.keys()].sort());
      for (const thread of THREADS) {
        const offsets = events.filter((e) => e.meta!.channel === `thread.${thread}`).map((e) => e.meta!.offset);
        const wanted = expected.filter(([, v]) => v.thread === thread).map(([, v]) => v.offset);
        expect(offsets).toEqual(wanted);
      }
    }
    expect(disconnects).toEqual([]);
    // The promoted replica has no replica of its own: it accepts alone, and says so.
    await until(
      async () => (await json(fetch(`${nodes[0].url}/health`))).durability === "degraded",
      5000,
      "health to say durability is degraded",
    );
    const metrics = await (await fetch(`${nodes[0].url}/metrics`)).text();
    expect(metrics).toMatch(/^realtime_redis_masters_without_replica 1$/m);
  }, 90_000);
});
