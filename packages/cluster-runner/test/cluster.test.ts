import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { httpRequest } from "../src/http-probe";
import { Cluster, startCluster } from "../src";
import { connectSocket, get, gone, tokenFor } from "./helpers";

// Real realtime nodes (apps/realtime/dist) in embedded mode — the runner itself is under test here;
// cluster-redis.test.ts covers the Redis path.
describe("a local cluster of two embedded nodes behind nginx", () => {
  let cluster: Cluster;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, redis: false, env: { SHUTDOWN_TIMEOUT_MS: "3000" } });
  });
  afterEach(() => sockets.splice(0).forEach((socket) => socket.close()));
  afterAll(() => cluster?.stop());

  /** The node nginx sends this test's requests to: they all come from 127.0.0.1, so one node. */
  const servingIndex = async (): Promise<number> => {
    const { node } = JSON.parse((await get(`${cluster.url}/health`)).body) as { node: string };
    return cluster.nodes.findIndex((candidate) => candidate.id === node);
  };

  it("reports distinct running nodes and one nginx url", () => {
    const ready = cluster.ready();
    expect(ready.nodes.map((node) => node.id)).toEqual(["node-1", "node-2"]);
    expect(new Set(ready.nodes.map((node) => node.port)).size).toBe(2);
    for (const node of cluster.nodes) {
      expect(node.running).toBe(true);
      expect(gone(node.pid)).toBe(false);
      expect(node.url).toBe(`http://127.0.0.1:${node.port}`);
    }
    expect(ready.url).toBe(`http://127.0.0.1:${cluster.nginx.port}`);
    expect(gone(ready.nginx_pid)).toBe(false);
    expect(ready.redis).toBeNull();
    expect(ready.jwt_secret.length).toBeGreaterThanOrEqual(32);
    expect(ready.api_key).toMatch(/^rt_dev_/);
  });

  it("proxies GET /health to a node", async () => {
    const response = await get(`${cluster.url}/health`);
    expect(response.status).toBe(200);
    expect(["node-1", "node-2"]).toContain(JSON.parse(response.body).node);
  });

  it("answers /metrics itself with 404 in every spelling, while each node serves it directly", async () => {
    for (const path of ["/metrics", "/METRICS", "/metrics/", "//metrics", "/%6Detrics"]) {
      const response = await get(cluster.url + path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body).not.toContain("realtime_");
    }
    for (const node of cluster.nodes) {
      const direct = await get(`${node.url}/metrics`);
      expect(direct.status).toBe(200);
      expect(direct.body).toContain("# TYPE realtime_");
    }
  });

  it("passes the caller's X-Request-Id to the node and makes one up when there is none", async () => {
    const given = await get(`${cluster.url}/health`, { "X-Request-Id": "laravel-req-123" });
    expect(given.headers["x-request-id"]).toBe("laravel-req-123");
    const made = await get(`${cluster.url}/health`);
    expect(made.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("lets the node answer 413 above MAX_PAYLOAD_BYTES and cuts only far larger bodies itself", async () => {
    const post = (bytes: number) =>
      httpRequest(`${cluster.url}/api/broadcast`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-WebSocket-API-Key": cluster.apiKey },
        body: Buffer.alloc(bytes, "a"),
      });
    const byNode = await post(300 * 1024);
    expect(byNode.status).toBe(413);
    expect(JSON.parse(byNode.body)).toMatchObject({
      success: false,
      error: "payload_too_large",
      message: expect.any(String),
    });
    const byNginx = await post(2 * 1024 * 1024);
    expect(byNginx.status).toBe(413);
    expect(JSON.parse(byNginx.body)).toEqual({ success: false, error: "payload_too_large" });
  });

  it("carries a WebSocket through nginx: a JWT client connects and gets a broadcast sent through nginx", async () => {
    const socket = await connectSocket(cluster.url, {
      transports: ["websocket"],
      auth: { token: tokenFor(cluster.jwtSecret, 42) },
    });
    sockets.push(socket);
    expect(socket.io.engine.transport.name).toBe("websocket");
    const received = new Promise((resolve) => socket.once("notification", resolve));
    const sent = await httpRequest(`${cluster.url}/api/broadcast`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-WebSocket-API-Key": cluster.apiKey },
      body: JSON.stringify({ event: "notification", to: "user", user_id: 42, data: { id: "n1" } }),
    });
    expect(sent.status).toBe(200);
    await expect(received).resolves.toEqual({ id: "n1" });
  });

  it("keeps a long-polling session on one node (sticky hash)", async () => {
    const socket = await connectSocket(cluster.url, {
      transports: ["polling"],
      auth: { token: tokenFor(cluster.jwtSecret, 7) },
    });
    sockets.push(socket);
    await expect(socket.timeout(5000).emitWithAck("subscribe", { thread_id: 1 })).resolves.toMatchObject({ ok: true });
  });

  it("drains a node on SIGTERM: exit 0, its client reconnects through nginx to the other node", async () => {
    const serving = await servingIndex();
    const socket = await connectSocket(cluster.url, {
      transports: ["websocket"],
      auth: { token: tokenFor(cluster.jwtSecret, 42) },
      reconnection: true,
    });
    sockets.push(socket);
    // The socket's own "connect", not the manager's "reconnect": the server counts a socket once its
    // handshake passed, and acknowledges it with the CONNECT packet that fires this.
    const reconnected = new Promise((resolve) => socket.once("connect", () => resolve(undefined)));
    const drained = cluster.nodes[serving];

    await expect(cluster.stopNode(serving)).resolves.toEqual({ code: 0, signal: null });
    expect(cluster.nodes[serving].running).toBe(false);
    expect(gone(drained.pid)).toBe(true);
    await reconnected;
    const other = cluster.nodes[1 - serving];
    expect(JSON.parse((await get(`${other.url}/health`)).body)).toMatchObject({ node: other.id, connections: 1 });
  });

  it("starts a stopped node again with its id and port", async () => {
    const index = cluster.nodes.findIndex((node) => !node.running);
    const before = cluster.nodes[index];
    const after = await cluster.startNode(index);
    expect(after).toMatchObject({ id: before.id, port: before.port, running: true });
    expect(after.pid).not.toBe(before.pid);
    expect(JSON.parse((await get(`${after.url}/health`)).body)).toMatchObject({ status: "ok", node: before.id });
  });

  it("skips a killed node, and answers 503 JSON when none is left", async () => {
    const index = await servingIndex();
    await expect(cluster.killNode(index)).resolves.toEqual({ code: null, signal: "SIGKILL" });

    const failover = await get(`${cluster.url}/health`);
    expect(failover.status).toBe(200);
    expect(JSON.parse(failover.body).node).toBe(cluster.nodes[1 - index].id);

    await cluster.killNode(1 - index);
    const none = await get(`${cluster.url}/health`);
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body)).toEqual({ success: false, error: "unavailable" });
  });

  it("leaves no process behind after stop()", async () => {
    await Promise.all([cluster.startNode(0), cluster.startNode(1)]);
    const pids = [...cluster.nodes.map((node) => node.pid), cluster.nginx.pid];
    await cluster.stop();
    for (const pid of pids) expect({ pid, gone: gone(pid, { group: true }) }).toEqual({ pid, gone: true });
  });
});

describe("a round-robin nginx (negative control)", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, redis: false, stickiness: "round-robin" });
  });
  afterAll(() => cluster?.stop());

  it("breaks long-polling, which is why the default is sticky", async () => {
    const connecting = connectSocket(cluster.url, {
      transports: ["polling"],
      auth: { token: tokenFor(cluster.jwtSecret, 7) },
    });
    await expect(connecting).rejects.toThrow(/xhr (post|poll) error/);
  });
});

describe("node options per node (the bench's --cpu-prof)", () => {
  it("starts each node with the options made for its id: a CPU profile per node, written when it stops", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runner-prof-"));
    try {
      const cluster = await startCluster({
        nodes: 2,
        redis: false,
        nodeArgs: (id) => ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${id}.cpuprofile`],
      });
      await cluster.stop();
      expect(readdirSync(dir).sort()).toEqual(["node-1.cpuprofile", "node-2.cpuprofile"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
