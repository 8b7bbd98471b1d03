import { spawnSync } from "node:child_process";
import { connected, request, startNode, tokenFor, until, json } from "./helpers/node";
import { createEmbeddedState } from "../src/state/embedded-state";
import { systemClock } from "../src/core/ports";

describe("health and metrics", () => {
  it("reports ok, embedded, the node, connections and the version on /health", async () => {
    const node = await startNode({ NODE_ID: "node-a" });
    await connected(node.url, { auth: { token: tokenFor(1) } });
    const response = await fetch(`${node.url}/health`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      status: "ok",
      node: "node-a",
      uptime_s: expect.any(Number),
      connections: 1,
      redis: "embedded",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(await json(fetch(`${node.url}/health/live`))).toEqual({ status: "ok" });
  });

  it("counts every API call under its labels, however often the same labels come back", async () => {
    const node = await startNode();
    const body = { event: "n", to: "user", user_id: 1, data: {} };
    for (let i = 0; i < 3; i++) await node.api("/api/broadcast", { body });
    for (let i = 0; i < 2; i++) await node.api("/api/broadcast", { body, headers: { "X-WebSocket-API-Key": "x" } });
    await node.api("/api/broadcast", { body: { ...body, to: "nobody" } });
    const text = await (await fetch(`${node.url}/metrics`)).text();
    expect(text).toMatch(/^realtime_api_requests_total\{route="\/api\/broadcast",method="POST",status="200"\} 3$/m);
    expect(text).toMatch(/^realtime_api_requests_total\{route="\/api\/broadcast",method="POST",status="401"\} 2$/m);
    expect(text).toMatch(/^realtime_api_requests_total\{route="\/api\/broadcast",method="POST",status="422"\} 1$/m);
    expect(text).toMatch(/^realtime_api_request_duration_seconds_count\{route="\/api\/broadcast",method="POST"\} 6$/m);
    expect(text).toMatch(/^realtime_broadcasts_total\{target="user",outcome="accepted"\} 3$/m);
    expect(text).toMatch(/^realtime_broadcasts_total\{target="invalid",outcome="rejected"\} 1$/m);
  });

  it("serves /metrics that promtool check metrics accepts, with every family of the spec", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    await request(socket, "subscribe", { thread_id: 1, since: "1-1" });
    await node.api("/api/broadcast", { body: { event: "n", to: "user", user_id: 1, data: {} } });
    await node.api("/api/broadcast", {
      body: { event: "n", to: "user", user_id: 1, data: {} },
      headers: { "X-WebSocket-API-Key": "x" },
    });
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect({ status: check.status, problems: check.stdout + check.stderr }).toEqual({ status: 0, problems: "" });
    for (const family of [
      "realtime_connected_sockets",
      "realtime_connections_total",
      "realtime_disconnections_total",
      "realtime_broadcasts_total",
      "realtime_api_requests_total",
      "realtime_api_request_duration_seconds",
      "realtime_broadcast_latency_seconds",
      "realtime_auth_failures_total",
      "realtime_rate_limited_total",
      "realtime_online_users",
      "realtime_redis_up",
      "realtime_history_replays_total",
      "realtime_presence_webhooks_total",
      "realtime_fast_path_active",
      "process_cpu_seconds_total",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(text).toContain(`# TYPE ${family} `);
    }
    expect(text).toMatch(/realtime_broadcasts_total\{target="user",outcome="accepted"\} 1/);
    expect(text).toMatch(/realtime_api_requests_total\{route="\/api\/broadcast",method="POST",status="401"\} 1/);
    expect(text).toMatch(/realtime_broadcast_latency_seconds_count 1/);
    expect(text).toMatch(/realtime_history_replays_total\{outcome="gap"\} 1/);
    expect(text).not.toMatch(/user_id|thread\.1|"n"/);
  });

  it("guards /metrics with METRICS_TOKEN when set", async () => {
    const node = await startNode({ METRICS_TOKEN: "scrape-secret" });
    expect((await fetch(`${node.url}/metrics`)).status).toBe(401);
    const ok = await fetch(`${node.url}/metrics`, { headers: { Authorization: "Bearer scrape-secret" } });
    expect(ok.status).toBe(200);
  });

  it("answers 503 on /health and /api/broadcast while the backend is down, and resumes by itself", async () => {
    let backend: "ok" | "down" = "ok";
    const node = await startNode({}, (config) => ({
      ...createEmbeddedState({ historySize: config.historySize, historyTtlS: config.historyTtlS, clock: systemClock }),
      health: { mode: "redis", state: () => backend, acceptsBroadcasts: () => backend === "ok" },
    }));
    const body = { event: "n", to: "user", user_id: 1, data: {} };
    backend = "down";
    const health = await fetch(`${node.url}/health`);
    expect(health.status).toBe(503);
    expect(await json(health)).toMatchObject({ status: "degraded", redis: "down" });
    const refused = await node.api("/api/broadcast", { body });
    expect(refused.status).toBe(503);
    expect(await json(refused)).toMatchObject({ success: false, error: "unavailable" });
    expect(await (await fetch(`${node.url}/metrics`)).text()).toMatch(/^realtime_redis_up 0$/m);
    backend = "ok";
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    expect((await node.api("/api/broadcast", { body })).status).toBe(200);
  });

  it("drains on stop: clients are told to reconnect (transport close), not kicked", async () => {
    const node = await startNode({ SHUTDOWN_TIMEOUT_MS: "5000" });
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    const reasons: string[] = [];
    socket.on("disconnect", (reason) => reasons.push(reason));
    await node.stop();
    await until(() => reasons.length === 1);
    expect(reasons).toEqual(["transport close"]);
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
  });
});
