import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import Redis from "ioredis";
import { Registry } from "prom-client";
import { createRealtimeApp } from "../src/app";
import { loadConfig } from "../src/config/load-config";
import { createLogger } from "../src/observability/logger";
import { RealtimeMetrics } from "../src/observability/metrics";
import type { Config } from "../src/config/schema";
import { systemClock } from "../src/core/ports";
import { fastPathGaps, watchFastPath } from "../src/socket/internals/fast-path-check";
import { RedisScript } from "../src/cluster/redis-script";
import { createEmbeddedState } from "../src/state/embedded-state";
import { createRedisState } from "../src/state/redis-state";
import type { SharedState } from "../src/state/shared-state";
import { API_KEY, connected, JWT_SECRET, json, record, startNode, TestNode, tokenFor, until } from "./helpers/node";
import { startRedis, uniquePrefix } from "./helpers/redis";

const TEST_ENV = { NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", LARAVEL_API_KEY: API_KEY, JWT_SECRET };

async function metricsOf(node: TestNode): Promise<string> {
  return (await fetch(`${node.url}/metrics`)).text();
}

/** An embedded state whose every way to publish or write history counts its calls. */
function countingState(config: Config): { state: SharedState; calls: () => number } {
  const state = createEmbeddedState({
    historySize: config.historySize,
    historyTtlS: config.historyTtlS,
    clock: systemClock,
  });
  let calls = 0;
  const count = <T extends object>(target: T, methods: string[]): T =>
    new Proxy(target, {
      get(object, name, receiver) {
        const value = Reflect.get(object, name, receiver) as unknown;
        if (typeof value !== "function") return value;
        const bound = (value as (...args: unknown[]) => unknown).bind(object);
        return methods.includes(String(name))
          ? (...args: unknown[]) => {
              calls += 1;
              return bound(...args);
            }
          : bound;
      },
    });
  return {
    state: {
      ...state,
      broadcaster: count(state.broadcaster, ["publish", "publishOnce"]),
      history: count(state.history, ["append"]),
    },
    calls: () => calls,
  };
}

describe("warm-up before the node listens", () => {
  it("runs its calls on throwaway parts: the real bus, history, metrics and sockets see none of them", async () => {
    let counting: ReturnType<typeof countingState> | undefined;
    const node = await startNode({ WARM_UP_CALLS: "300", LOG_LEVEL: "debug" }, (config) => {
      counting = countingState(config);
      return counting.state;
    });
    expect(counting!.calls()).toBe(0);
    const text = await metricsOf(node);
    expect(text).not.toMatch(/^realtime_broadcasts_total\{/m);
    expect(text).not.toMatch(/^realtime_api_requests_total\{route="\/api\/broadcast"/m);
    // All 300 were accepted (a refused warm-up would warm the error path and say so), none logged.
    expect(node.logs.join("")).not.toContain("warm-up");

    // The node works as usual afterwards.
    const socket = await connected(node.url, { auth: { token: tokenFor(7) } });
    const received = record(socket);
    const answer = await json(
      node.api("/api/broadcast", { body: { event: "Hello", to: "user", user_id: 7, data: { n: 1 } } }),
    );
    expect(answer).toMatchObject({ success: true, channel: "user.7" });
    await until(() => received.length === 1);
    expect(counting!.calls()).toBe(1);
    expect(received.map((message) => message.event)).toEqual(["Hello"]);
  });

  it("says so in the log when its calls are refused, and still starts", async () => {
    // A depth cap below the warm-up's own body (3 levels): every warm-up call is answered 422.
    const node = await startNode({ WARM_UP_CALLS: "5", MAX_JSON_DEPTH: "2" });
    expect(node.logs.join("")).toContain("warm-up calls refused");
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
  });

  it("opens no port before it is warm: the probe's session arrives while the node does not listen", async () => {
    const { config } = loadConfig({ ...TEST_ENV, WARM_UP_CALLS: "20" });
    const metrics = new RealtimeMetrics(new Registry());
    const state = createEmbeddedState({ historySize: 10, historyTtlS: 60, clock: systemClock });
    const logger = createLogger({ nodeId: "test", level: "error", format: "json" });
    const app = createRealtimeApp({ config, logger, metrics, state });
    const listeningAtProbe: boolean[] = [];
    app.io.engine.on("connection", () => listeningAtProbe.push(app.httpServer.listening));
    try {
      await app.start();
      expect(listeningAtProbe).toEqual([false]);
      expect(app.httpServer.listening).toBe(true);
      // The probe's session is closed again and was never a Socket.IO socket.
      await until(() => app.io.engine.clientsCount === 0);
      expect(await metrics.registry.getSingleMetricAsString("realtime_fast_path_active")).toMatch(/ 1$/m);
      expect(await metrics.registry.getSingleMetricAsString("realtime_connections_total")).not.toMatch(/\{/);
    } finally {
      await app.stop();
    }
  });
});

describe("Redis scripts", () => {
  it("are all loaded as the Redis state starts, so that no first call falls back to EVAL", async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url);
    try {
      const { config } = loadConfig({ ...TEST_ENV, REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix() });
      expect(RedisScript.shas().length).toBeGreaterThan(0);
      expect(await client.script("EXISTS", ...RedisScript.shas())).toEqual(RedisScript.shas().map(() => 0));
      const state = await createRedisState(config, { onError: () => undefined });
      try {
        expect(await client.script("EXISTS", ...RedisScript.shas())).toEqual(RedisScript.shas().map(() => 1));
      } finally {
        await state.close();
      }
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});

describe("the fast-path check", () => {
  /** The server side of a real WebSocket connection. */
  async function realConnection(): Promise<Record<string, unknown>> {
    const node = await startNode({ WARM_UP_CALLS: "0" });
    await connected(node.url, { auth: { token: tokenFor(1) } });
    const [socket] = [...node.app.io.of("/").sockets.values()];
    return socket.conn as unknown as Record<string, unknown>;
  }

  it("finds nothing missing on a real connection of the pinned engine.io and ws", async () => {
    expect(fastPathGaps(await realConnection())).toEqual([]);
  });

  it("names each field a transport lacks", async () => {
    const conn = await realConnection();
    const transport = conn.transport as { name: string; socket: Record<string, unknown> };
    // Copies that keep their prototype (getters such as `readyState`, the transport's `send`) but lack one field.
    const copy = (object: object, patch: object): object =>
      Object.assign(Object.create(Object.getPrototypeOf(object) as object) as object, object, patch);
    const withSocket = (socket: object): object => copy(conn, { transport: copy(transport, { socket }) });
    const ws = transport.socket;
    expect(fastPathGaps(copy(conn, { writeBuffer: undefined }))).toEqual(["engine.io conn.writeBuffer"]);
    expect(fastPathGaps(withSocket(copy(ws, { _sender: undefined })))).toEqual([
      "ws _sender._state",
      "ws _sender._queue",
    ]);
    expect(fastPathGaps(withSocket(copy(ws, { _socket: undefined })))).toEqual(["ws _socket (net.Socket)"]);
    expect(fastPathGaps(copy(conn, { transport: { name: "websocket" } }))).toEqual([
      "engine.io WebSocket.prototype.send",
      "engine.io transport.socket (ws)",
      "ws _sender._state",
      "ws _sender._queue",
      "ws _socket (net.Socket)",
    ]);
    expect(fastPathGaps({ readyState: "open", writeBuffer: [], transport: { name: "polling" } })).toEqual([
      "engine.io websocket transport",
    ]);
  });

  it("checks the first session that runs on WebSocket, once, even after a polling start", () => {
    const engine = new EventEmitter();
    const reports: string[][] = [];
    watchFastPath(engine, (missing) => reports.push(missing));
    const polling = Object.assign(new EventEmitter(), { transport: { name: "polling" } });
    engine.emit("connection", polling);
    expect(reports).toEqual([]);
    polling.transport = { name: "websocket" };
    polling.emit("upgrade");
    expect(reports).toEqual([
      [
        "engine.io conn.readyState",
        "engine.io conn.writeBuffer",
        "engine.io WebSocket.prototype.send",
        "engine.io transport.socket (ws)",
        "ws _sender._state",
        "ws _sender._queue",
        "ws _socket (net.Socket)",
      ],
    ]);
    engine.emit("connection", Object.assign(new EventEmitter(), { transport: { name: "websocket" } }));
    expect(reports).toHaveLength(1);
  });

  it("logs and sets realtime_fast_path_active to 0 at start when ws lost what the writer needs", async () => {
    const { config } = loadConfig({ ...TEST_ENV, WARM_UP_CALLS: "0" });
    const metrics = new RealtimeMetrics(new Registry());
    const logs: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ nodeId: "test", level: "info", format: "json", stream });
    const state = createEmbeddedState({ historySize: 10, historyTtlS: 60, clock: systemClock });
    const app = createRealtimeApp({ config, logger, metrics, state });
    // As if a ws upgrade had renamed its sender's queue: on the probe's session, before the check sees it.
    app.io.engine.prependListener("connection", (conn: { transport: { socket: { _sender: object } } }) => {
      const ws = conn.transport.socket;
      ws._sender = { ...ws._sender, _queue: undefined };
    });
    try {
      await app.start();
      expect(await metrics.registry.getSingleMetricAsString("realtime_fast_path_active")).toMatch(/ 0$/m);
      const line = logs.find((entry) => entry.includes("fast path inactive"));
      expect(JSON.parse(line ?? "{}")).toMatchObject({
        level: "warn",
        missing: ["ws _sender._queue"],
        checked_against: { ws: "8.21.3", "engine.io": "6.6.12" },
      });
    } finally {
      await app.stop();
    }
  });
});
