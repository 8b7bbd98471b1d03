import type { Config } from "../src/config/schema";
import { createEmbeddedState } from "../src/state/embedded-state";
import { createRedisState } from "../src/state/redis-state";
import { connectError, connected, startNode, tokenFor, until, TestNode } from "./helpers/node";
import { rawHandshake } from "./helpers/raw-handshake";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const PRODUCTION = { NODE_ENV: "production", CORS_ORIGINS: "http://localhost" };

/** Two production-mode nodes sharing one real Redis. */
async function twoNodes(env: Record<string, string>): Promise<[TestNode, TestNode]> {
  const prefix = uniquePrefix();
  const start = (id: string) =>
    startNode({ ...PRODUCTION, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, NODE_ID: id, ...env }, (config) =>
      createRedisState(config, { onError: () => undefined }),
    );
  return [await start("a"), await start("b")];
}

const refusals = async (node: TestNode, reason: string): Promise<number> => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(new RegExp(`realtime_handshakes_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
};

describe("MAX_CONNECTIONS (per node)", () => {
  it("answers 503 node_full past the cap, on both transports, and takes handshakes again once one left", async () => {
    const node = await startNode({ ...PRODUCTION, MAX_CONNECTIONS: "2" });
    const first = await connected(node.url, { auth: { token: tokenFor(1) } });
    await connected(node.url, { auth: { token: tokenFor(2) } });
    for (const transport of ["polling", "websocket"] as const) {
      const answer = await rawHandshake(node.url, transport);
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.body)).toEqual({ code: "node_full" });
    }
    const error = await connectError(node.url, { auth: { token: tokenFor(3) } });
    expect(error.message).toBe("websocket error");
    expect(await refusals(node, "node_full")).toBe(3);

    first.disconnect();
    await until(() => node.app.io.engine.clientsCount < 2, 5000, "the first connection to close");
    expect((await connected(node.url, { auth: { token: tokenFor(3) } })).connected).toBe(true);
  });
});

describe("MAX_CONNECTIONS_PER_USER (cluster-wide)", () => {
  it("refuses a user's third socket with too_many_connections, whichever node it reaches", async () => {
    const [a, b] = await twoNodes({ MAX_CONNECTIONS_PER_USER: "2" });
    const onA = await connected(a.url, { auth: { token: tokenFor(7) } });
    await connected(b.url, { auth: { token: tokenFor(7) } });
    for (const node of [a, b]) {
      const error = await connectError(node.url, { auth: { token: tokenFor(7) } });
      expect(error.message).toBe("too_many_connections");
      expect(error.data).toEqual({ code: "too_many_connections" });
    }
    expect((await refusals(a, "too_many_connections")) + (await refusals(b, "too_many_connections"))).toBe(2);
    // Another user is not affected.
    expect((await connected(a.url, { auth: { token: tokenFor(8) } })).connected).toBe(true);

    onA.disconnect();
    const presence = async () =>
      ((await (await b.api("/api/presence/users/7")).json()) as { connections: number }).connections;
    await until(async () => (await presence()) === 1, 5000, "the socket to leave presence");
    expect((await connected(b.url, { auth: { token: tokenFor(7) } })).connected).toBe(true);
  });

  it("holds under a burst of concurrent handshakes of one user spread over two nodes", async () => {
    const [a, b] = await twoNodes({ MAX_CONNECTIONS_PER_USER: "3" });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        connected(i % 2 ? a.url : b.url, { auth: { token: tokenFor(9) } }).then(
          () => "connected",
          (error: Error) => error.message,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === "connected")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "too_many_connections")).toHaveLength(7);
  });
});

describe("the per-IP handshake rate (HANDSHAKE_RATE_LIMIT)", () => {
  it("answers 429 with Retry-After past the rate of one client IP, counting only new sessions", async () => {
    // A clock that stands still: every handshake falls in the same one-second window.
    const stopped = { now: () => 1_700_000_000_000 };
    const node = await startNode({ ...PRODUCTION, HANDSHAKE_RATE_LIMIT: "3" }, (config: Config) =>
      createEmbeddedState({ historySize: config.historySize, historyTtlS: config.historyTtlS, clock: stopped }),
    );
    const from = (ip: string) => ({ "X-Forwarded-For": `198.51.100.1, ${ip}` });
    for (let i = 0; i < 3; i++) expect((await rawHandshake(node.url, "polling", from("203.0.113.5"))).status).toBe(200);
    for (const transport of ["polling", "websocket"] as const) {
      const refused = await rawHandshake(node.url, transport, from("203.0.113.5"));
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("1");
      expect(JSON.parse(refused.body)).toEqual({ code: "rate_limited" });
    }
    // The address nginx saw is the last one; what the client wrote left of it does not count.
    expect((await rawHandshake(node.url, "polling", from("203.0.113.6"))).status).toBe(200);
    // Loopback (no proxy in between) is not counted.
    for (let i = 0; i < 5; i++) expect((await rawHandshake(node.url, "polling")).status).toBe(200);
    expect(await refusals(node, "rate_limited")).toBe(2);
  });

  it("counts one IP's handshakes across the cluster", async () => {
    const [a, b] = await twoNodes({ HANDSHAKE_RATE_LIMIT: "3" });
    const headers = { "X-Forwarded-For": "203.0.113.9" };
    // Redis counts in one-second windows of the real clock: the burst may straddle two of them.
    const startedWindow = Math.floor(Date.now() / 1000);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => rawHandshake(i % 2 ? a.url : b.url, "polling", headers)),
    );
    const windows = Math.floor(Date.now() / 1000) - startedWindow + 1;
    const accepted = statuses.filter((s) => s.status === 200).length;
    expect(accepted).toBeGreaterThanOrEqual(3);
    expect(accepted).toBeLessThanOrEqual(3 * windows);
    expect(statuses.filter((s) => s.status === 429)).toHaveLength(12 - accepted);
    expect(windows).toBeLessThan(4);
  });
});
