import { Writable } from "node:stream";
import jwt from "jsonwebtoken";
import { Registry } from "prom-client";
import { io as connect, Socket, ManagerOptions, SocketOptions } from "socket.io-client";
import { createRealtimeApp, RealtimeApp } from "../../src/app";
import { loadConfig } from "../../src/config/load-config";
import type { Config } from "../../src/config/schema";
import { createLogger } from "../../src/observability/logger";
import { RealtimeMetrics } from "../../src/observability/metrics";
import { createEmbeddedState } from "../../src/state/embedded-state";
import type { SharedState } from "../../src/state/shared-state";
import { systemClock, systemScheduler, Clock, Scheduler } from "../../src/core/ports";

export const API_KEY = "test-api-key-0123456789";
export const JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123";

export interface TestNode {
  url: string;
  config: Config;
  app: RealtimeApp;
  logs: string[];
  /** POST/GET with the API key. */
  api(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

const running = new Set<TestNode>();
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.disconnect();
  sockets.clear();
  await Promise.all([...running].map((node) => node.stop()));
});

/**
 * An in-process node on a free loopback port, configured through the same env names as in
 * production. Stopped after each test. `time` (a ManualTime) replaces the system's clock and timers.
 */
export async function startNode(
  env: Record<string, string> = {},
  makeState?: (config: Config) => SharedState | Promise<SharedState>,
  time: Clock & Scheduler = { now: systemClock.now, after: systemScheduler.after, every: systemScheduler.every },
): Promise<TestNode> {
  const { config, problems } = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LARAVEL_API_KEY: API_KEY,
    JWT_SECRET,
    PRESENCE_GRACE_MS: "200",
    SHUTDOWN_TIMEOUT_MS: "2000",
    // A few calls exercise the warm-up in every test; its thousand would only slow the suite.
    WARM_UP_CALLS: "20",
    ...env,
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ nodeId: "test", level: "debug", format: "json", stream });
  const state =
    (await makeState?.(config)) ??
    createEmbeddedState({
      historySize: config.historySize,
      historyTtlS: config.historyTtlS,
      clock: time,
      scheduler: time,
    });
  const app = createRealtimeApp({
    config,
    logger,
    metrics: new RealtimeMetrics(new Registry()),
    state,
    clock: time,
    scheduler: time,
  });
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const node: TestNode = {
    url,
    config,
    app,
    logs,
    api(path, init = {}) {
      const hasBody = init.body !== undefined;
      return fetch(url + path, {
        method: init.method ?? (hasBody ? "POST" : "GET"),
        headers: {
          "X-WebSocket-API-Key": API_KEY,
          ...(hasBody ? { "Content-Type": "application/json" } : {}),
          ...init.headers,
        },
        body: hasBody ? (typeof init.body === "string" ? init.body : JSON.stringify(init.body)) : undefined,
      });
    },
    stop() {
      running.delete(node);
      stopped ??= app.stop();
      return stopped;
    },
  };
  running.add(node);
  return node;
}

export function tokenFor(userId: string | number, options: jwt.SignOptions = {}, secret = JWT_SECRET): string {
  return jwt.sign({ sub: userId }, secret, { algorithm: "HS256", expiresIn: 3600, ...options });
}

/** A real socket.io-client, disconnected after the test. */
export function client(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Socket {
  const socket = connect(url, { transports: ["websocket"], reconnection: false, forceNew: true, ...options });
  sockets.add(socket);
  return socket;
}

export async function connected(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<Socket> {
  const socket = client(url, options);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

export function connectError(
  url: string,
  options: Partial<ManagerOptions & SocketOptions>,
): Promise<Error & { data?: { code?: string } }> {
  const socket = client(url, options);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected, but a connect_error was expected")));
    socket.once("connect_error", resolve);
  });
}

/** Emits a client event and resolves with its ack. */
export function request<T = Record<string, unknown>>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, payload) as Promise<T>;
}

export interface Received {
  event: string;
  data: Record<string, unknown>;
  meta?: { id: string; channel: string; offset: string; ts: number };
}

/** Records every event the socket receives, in order. */
export function record(socket: Socket): Received[] {
  const received: Received[] = [];
  socket.onAny((event: string, data: Record<string, unknown>, meta?: Received["meta"]) => {
    received.push({ event, data, meta });
  });
  return received;
}

/** Resolves once `predicate` holds, checking after every event loop turn with I/O; rejects after `ms`. */
export async function until(predicate: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Sends a sentinel event to `target` (a broadcast body's `to` part, e.g. `{to:"user", user_id:1}`)
 * through `node` and waits until every recorder got it, then takes it out of them. Events reach a
 * socket in the order the cluster published them, so whatever was on its way to these sockets
 * before has arrived: "nothing else came" is then an assertion, not a sleep.
 */
export async function flushEvents(node: TestNode, target: object, ...recorders: Received[][]): Promise<void> {
  const marker = `sentinel-${Math.random()}`;
  const answer = await node.api("/api/broadcast", { body: { event: "sentinel", ...target, data: { marker } } });
  if (answer.status !== 200) throw new Error(`sentinel refused: ${answer.status}`);
  const isSentinel = (e: Received): boolean => e.event === "sentinel" && e.data.marker === marker;
  await until(() => recorders.every((events) => events.some(isSentinel)), 5000, "the sentinel");
  for (const events of recorders) events.splice(events.findIndex(isSentinel), 1);
}

/** A JSON answer, loosely typed: tests assert its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function json(response: Response | Promise<Response>): Promise<Json> {
  return (await response).json();
}
