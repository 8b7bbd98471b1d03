import { io, Socket } from "socket.io-client";
import type { Cluster } from "@mechamap/cluster-runner";
import { cluster, forumClient, post, spread, tokenFor, until, wait } from "./helpers";

/**
 * The same cluster (3 nodes + nginx) on the runner's own Redis Cluster, 3 masters + 3 replicas,
 * nodes on REDIS_CLUSTER_NODES alone: fan-out, many slots, idempotency across nodes, recovery,
 * presence with a node's kill -9, and a master's kill -9 under load with Laravel-style retries.
 */
let c: Cluster;
beforeAll(async () => {
  c = await cluster({ nodes: 3, redisCluster: true, env: { NODE_TTL_MS: "2000", PRESENCE_GRACE_MS: "500" } });
}, 90_000);

const THREADS = Array.from({ length: 24 }, (_, i) => 100 + i);

async function broadcast(url: string, body: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/broadcast`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-websocket-api-key": c.apiKey },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function socketOn(url: string, userId: number): Promise<Socket> {
  const socket = io(url, {
    auth: { token: tokenFor(c.jwtSecret, userId) },
    transports: ["websocket"],
    reconnection: false,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

function offsetsAscending(offsets: string[]): boolean {
  return offsets.every((offset, i) => i === 0 || compare(offsets[i - 1], offset) < 0);
}

function compare(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

type ForumClient = ReturnType<typeof forumClient>;

/**
 * Posts a sentinel to each thread and waits until every client has the sentinel of each of its
 * threads: a channel's events come in offset order, so nothing posted before is still on its way.
 * The sentinels are then taken out of what the clients saw.
 */
async function flushThreads(holders: Array<{ client: ForumClient; threads: number[] }>, tag: string): Promise<void> {
  const threads = [...new Set(holders.flatMap((holder) => holder.threads))];
  for (const thread of threads) {
    const body = { event: "sentinel", to: "thread", thread_id: thread, data: {}, id: `${tag}-${thread}` };
    expect(await post(c.nodes[thread % 3].url, c.apiKey, body)).toBe(200);
  }
  const has = (client: ForumClient, thread: number) => client.seen.some((s) => s.id === `${tag}-${thread}`);
  await until(() => holders.every(({ client, threads }) => threads.every((t) => has(client, t))), 20000, "sentinels");
  for (const { client } of holders) {
    const kept = client.seen.filter((s) => !s.id.startsWith(`${tag}-`));
    client.seen.splice(0, client.seen.length, ...kept);
  }
}

describe("a 3-node cluster on a Redis Cluster (3 masters + 3 replicas)", () => {
  it("fans out 24 threads with members on several nodes, each event once, in offset order", async () => {
    const threadsOf = (i: number) => THREADS.filter((_, t) => t % 3 === i % 3);
    const clients = Array.from({ length: 9 }, (_, i) =>
      forumClient(c.url, {
        secret: c.jwtSecret,
        userId: 1 + i,
        source: `127.0.0.${110 + i}`,
        transport: i % 3 ? "websocket" : "polling",
        threads: threadsOf(i),
      }),
    );
    await Promise.all(clients.map((client) => client.ready));
    const perNode = await spread(c);
    expect(perNode.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 96; i++) {
      const thread = THREADS[i % THREADS.length];
      const status = await post(c.nodes[i % 3].url, c.apiKey, {
        event: "new_reply",
        to: "thread",
        thread_id: thread,
        data: { i },
        id: `fan-${i}`,
      });
      expect(status).toBe(200);
    }
    // Each client holds 8 threads, each thread got 4 events.
    await until(() => clients.every((client) => client.seen.length >= 32), 20000, "every delivery");
    await flushThreads(
      clients.map((client, i) => ({ client, threads: threadsOf(i) })),
      "fan-done",
    );
    for (const client of clients) {
      expect(client.seen).toHaveLength(32);
      for (const thread of THREADS) {
        const offsets = client.seen.filter((s) => s.channel === `thread.${thread}`).map((s) => s.offset);
        expect(offsetsAscending(offsets)).toBe(true);
      }
    }
    console.log(`24 threads x 96 events over ${perNode.join("/")} connections per node: each once, in order`);
    for (const client of clients) client.socket.disconnect();
  });

  it("sends to users in many slots and to all, once each; repeats on another node and 10 concurrent repeats are duplicates", async () => {
    const users = Array.from({ length: 40 }, (_, i) => 500 + i);
    const sockets = await Promise.all(users.map((id, i) => socketOn(c.nodes[i % 3].url, id)));
    const got = sockets.map(() => [] as string[]);
    sockets.forEach((socket, i) =>
      socket.onAny((_e: string, _d: unknown, meta?: { id: string }) => got[i].push(meta!.id)),
    );
    const body = { event: "notification", to: "users", user_ids: users, data: {}, id: "many-slots" };
    const first = await broadcast(c.nodes[0].url, body);
    expect(first).toEqual({ status: 200, body: { success: true, id: "many-slots", channels: users.length } });
    const again = await broadcast(c.nodes[1].url, body);
    expect(again.body).toEqual({ ...first.body, duplicate: true });
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, (_, i) => broadcast(c.nodes[i % 3].url, { ...body, id: "ten-at-once" })),
    );
    expect(concurrent.filter((answer) => answer.body.duplicate !== true)).toHaveLength(1);
    expect(new Set(concurrent.map((answer) => answer.body.id))).toEqual(new Set(["ten-at-once"]));
    expect((await broadcast(c.nodes[2].url, { event: "notice", to: "all", data: {}, id: "everyone" })).status).toBe(
      200,
    );
    await until(() => got.every((ids) => ids.length >= 3), 10000, "every user to get three");
    // Sentinels on both kinds of channel (each user's, and all): after them nothing is on its way.
    expect((await broadcast(c.nodes[0].url, { ...body, event: "sentinel", id: "users-done" })).status).toBe(200);
    expect((await broadcast(c.nodes[1].url, { event: "sentinel", to: "all", data: {}, id: "all-done" })).status).toBe(
      200,
    );
    await until(() => got.every((ids) => ids.includes("users-done") && ids.includes("all-done")), 10000, "sentinels");
    for (const ids of got) {
      expect(ids.filter((id) => !id.endsWith("-done"))).toEqual(["many-slots", "ten-at-once", "everyone"]);
    }
    for (const socket of sockets) socket.disconnect();
  });

  it("recovers with since on another node what was published meanwhile", async () => {
    const first = await socketOn(c.nodes[0].url, 700);
    const seen: string[] = [];
    first.onAny((_e: string, _d: unknown, meta?: { offset: string }) => seen.push(meta!.offset));
    await first.timeout(5000).emitWithAck("subscribe", { thread_id: 77 });
    await post(c.nodes[1].url, c.apiKey, { event: "e", to: "thread", thread_id: 77, data: { n: 0 } });
    await until(() => seen.length === 1, 5000, "the first event");
    first.disconnect();
    for (let n = 1; n <= 5; n++)
      await post(c.nodes[2].url, c.apiKey, { event: "e", to: "thread", thread_id: 77, data: { n } });
    const second = await socketOn(c.nodes[1].url, 700);
    const replayed: number[] = [];
    second.onAny((_e: string, data: { n: number }) => replayed.push(data.n));
    const ack = await second.timeout(5000).emitWithAck("subscribe", { thread_id: 77, since: seen[0] });
    expect(ack).toMatchObject({ ok: true, recovered: true });
    await until(() => replayed.length === 5, 5000, "the replay");
    expect(replayed).toEqual([1, 2, 3, 4, 5]);
    second.disconnect();
  });

  it("takes a killed node's users offline once each (presence over the buckets)", async () => {
    const [, survivor, doomed] = c.nodes;
    const watcher = await socketOn(survivor.url, 800);
    const events: Array<{ event: string; user: string }> = [];
    watcher.onAny((event: string, data: { user_id: string }) => events.push({ event, user: data.user_id }));
    await watcher.timeout(5000).emitWithAck("presence:watch", { user_ids: [801, 802, 803] });
    const tabs = [await socketOn(doomed.url, 801), await socketOn(survivor.url, 801), await socketOn(doomed.url, 802)];
    tabs.push(await socketOn(doomed.url, 803));
    await until(() => events.filter((e) => e.event === "user_online").length === 3, 5000, "three online");
    await c.killNode(doomed.index);
    await until(() => events.filter((e) => e.event === "user_offline").length === 2, 10000, "two offline");
    // An absence cannot be awaited: watch for a second user_offline over more than a whole reaping
    // period of every survivor (NODE_TTL_MS 2000) before calling each one exactly once.
    await wait(2500);
    expect(
      events
        .filter((e) => e.event === "user_offline")
        .map((e) => e.user)
        .sort(),
    ).toEqual(["802", "803"]);
    for (const socket of [watcher, ...tabs]) socket.disconnect();
    await c.startNode(doomed.index);
  });

  it("loses no 2xx broadcast when a master is killed at ~40 broadcasts/s with retries; no socket disconnects", async () => {
    const threads = THREADS.slice(0, 12);
    const clients = Array.from({ length: 6 }, (_, i) =>
      forumClient(c.url, {
        secret: c.jwtSecret,
        userId: 900 + i,
        source: `127.0.0.${140 + i}`,
        transport: i % 2 ? "polling" : "websocket",
        threads,
      }),
    );
    await Promise.all(clients.map((client) => client.ready));
    const disconnects: string[] = [];
    for (const client of clients) client.socket.on("disconnect", (reason) => disconnects.push(reason));

    const accepted = new Map<string, { channel: string; offset: string }>();
    let retries = 0;
    // Laravel's package: the same id on every retry, to any node.
    const send = async (n: number): Promise<void> => {
      const body = {
        event: "new_reply",
        to: "thread",
        thread_id: threads[n % threads.length],
        data: { n },
        id: `kill-${n}`,
      };
      for (let attempt = 0; attempt < 100; attempt++) {
        const answer = await broadcast(c.nodes[(n + attempt) % 3].url, body).catch(() => undefined);
        if (answer?.status === 200) {
          accepted.set(body.id, { channel: `thread.${body.thread_id}`, offset: String(answer.body.offset) });
          return;
        }
        retries++;
        await wait(200);
      }
    };
    const sending: Array<Promise<void>> = [];
    const started = Date.now();
    let killedAt = 0;
    for (let n = 0; Date.now() - started < 12_000; n++) {
      sending.push(send(n));
      if (!killedAt && Date.now() - started > 2000) {
        const masters = await roles(c);
        killedAt = Date.now();
        process.kill(masters[0].pid, "SIGKILL");
      }
      await wait(25);
    }
    await Promise.all(sending);
    expect(accepted.size).toBe(sending.length);
    await until(
      () => clients.every((client) => client.seen.length >= accepted.size),
      30000,
      "every accepted broadcast",
    ).catch((error: Error) => {
      // Say what is missing where, and what each client went through, rather than only "timed out".
      const missing = clients.map((client, i) => {
        const got = new Set(client.seen.map((s) => s.id));
        const lost = [...accepted].filter(([id]) => !got.has(id));
        return `client ${i}: ${JSON.stringify(lost)} ${JSON.stringify(client.timeline)}`;
      });
      throw new Error(`${error.message}; master killed at ${killedAt}; missing:\n${missing.join("\n")}`);
    });
    await flushThreads(
      clients.map((client) => ({ client, threads })),
      "kill-done",
    );
    const expected = [...accepted].sort(([, a], [, b]) => compare(a.offset, b.offset));
    for (const client of clients) {
      expect(client.seen.map((s) => s.id).sort()).toEqual([...accepted.keys()].sort());
      for (const thread of threads) {
        const channel = `thread.${thread}`;
        expect(client.seen.filter((s) => s.channel === channel).map((s) => s.offset)).toEqual(
          expected.filter(([, v]) => v.channel === channel).map(([, v]) => v.offset),
        );
      }
    }
    expect(disconnects).toEqual([]);
    console.log(
      `master kill -9: ${accepted.size} broadcasts (${retries} retries) reached ${clients.length} clients once each, in order; none disconnected`,
    );
    const health = (await (await fetch(`${c.nodes[0].url}/health`)).json()) as { durability: string };
    expect(health.durability).toBe("degraded");
  });
});

/** The runner's Redis Cluster nodes that are masters now (ROLE), with their pids. */
async function roles(cl: Cluster): Promise<Array<{ port: number; pid: number }>> {
  const { execFile } = await import("node:child_process");
  const ask = (port: number) =>
    new Promise<string>((resolve) =>
      execFile("redis-cli", ["-p", String(port), "ROLE"], (_e, out) => resolve(out ?? "")),
    );
  const nodes = cl.redisCluster ?? [];
  const answers = await Promise.all(nodes.map((node) => ask(node.port)));
  return nodes.filter((_, i) => answers[i].startsWith("master"));
}
