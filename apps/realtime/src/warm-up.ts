import { randomBytes } from "node:crypto";
import { Agent, createServer, IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Registry } from "prom-client";
import WebSocket from "ws";
import { createApiKeyVerifier } from "./auth/api-key-verifier";
import type { OriginAllowlist } from "./auth/origin-allowlist";
import { systemClock } from "./core/ports";
import { Publisher } from "./core/publisher";
import { createHttpApp } from "./http/create-http-app";
import type { Config } from "./config/schema";
import { createSilentLogger, Logger } from "./observability/logger";
import { CHECKED_AGAINST, watchFastPath } from "./socket/internals/fast-path-check";
import { RealtimeMetrics } from "./observability/metrics";
import type { PresenceRouteOptions } from "./http/routes/presence";
import type { RealtimeServer } from "./socket/types";
import { createEmbeddedState } from "./state/embedded-state";
import { VERSION } from "./version";

export interface WarmUpDeps {
  io: RealtimeServer;
  directory: PresenceRouteOptions["directory"];
  corsOrigins: OriginAllowlist;
  config: Pick<Config, "maxPayloadBytes" | "maxJsonDepth" | "warmUpCalls">;
  logger: Logger;
  metrics: RealtimeMetrics;
}

/**
 * What a node does before it listens: checks that the fast path is active (a log line and
 * `realtime_fast_path_active`), and runs its hot code until it is compiled. Since the port is not
 * open yet, nothing reaches the node before it is warm, and `/health` answers only then.
 */
export async function warmUp(deps: WarmUpDeps): Promise<void> {
  const { io, config, logger, metrics } = deps;
  watchFastPath(io.engine, (missing) => {
    metrics.fastPathActive.set(missing.length === 0 ? 1 : 0);
    if (missing.length > 0) {
      logger.warn("fast path inactive: every write goes through Engine.IO", {
        missing,
        checked_against: CHECKED_AGAINST,
      });
    }
  });
  const accepted = await warmUpCalls({ ...deps, ...config, calls: config.warmUpCalls });
  if (accepted < config.warmUpCalls) {
    logger.warn("warm-up calls refused: the first real calls will run cold code", {
      accepted,
      calls: config.warmUpCalls,
    });
  }
  if (!(await probeWebSocket(io))) {
    // The watch stays on: the first client's WebSocket session is checked instead.
    logger.warn("fast path not checked at start: the warm-up's WebSocket session did not open");
  }
}

export interface WarmUpOptions {
  directory: PresenceRouteOptions["directory"];
  corsOrigins: OriginAllowlist;
  maxPayloadBytes: number;
  maxJsonDepth: number;
  /** Calls to make; 0 skips the calls (the loopback probe still runs). */
  calls: number;
}

/**
 * A node that joins a busy cluster takes its first requests with cold code: V8 interprets a function
 * until it has run often enough to be compiled, and the first calls also pay for lazy setup in Koa,
 * the router, prom-client and the history. At 2000 calls/s on one core that made the first three
 * seconds' worst latency 1.5 s, 0.7 s and 0.2 s. So before it listens, the node runs `calls`
 * broadcasts through a private twin of its HTTP API, over real HTTP on a loopback port of its own:
 * the same functions (compiled code and type feedback are per function, shared by every instance),
 * wired to throwaway parts — an in-memory history and bus that are dropped afterwards and deliver
 * to no socket, a metrics registry nobody scrapes, a silent logger, a random API key that exists
 * only here. Nothing is delivered to anyone, and nothing stays in the real history, metrics or logs. Answers how many calls were accepted (all of them, unless the API changed under it).
 *
 * What it does not buy: V8 still optimises most of the hot path only once real calls come (a node
 * runs its first second at 3–4× the CPU of its tenth, warm-up or not; docs/PERFORMANCE.md, "The
 * broadcast lane"), so the first second after a start is slower than the rest, the second is not.
 */
export async function warmUpCalls(options: WarmUpOptions): Promise<number> {
  if (options.calls <= 0) return 0;
  const state = createEmbeddedState({ historySize: 10, historyTtlS: 60, clock: systemClock });
  // No delivery: the node's own (ChannelDelivery, the frame writer) would learn from calls with no
  // socket to write to, and their compiled code would then be wrong for the real ones.
  state.broadcaster.onMessage(() => undefined);
  const key = randomBytes(24).toString("base64url");
  const registry = new Registry();
  const twin = createHttpApp({
    logger: createSilentLogger(),
    metrics: new RealtimeMetrics(registry),
    corsOrigins: options.corsOrigins,
    auth: { keys: createApiKeyVerifier(key, []), rateLimiter: state.rateLimiter, ratePerSecond: 1_000_000 },
    broadcast: {
      publisher: new Publisher({ broadcaster: state.broadcaster, idempotencyTtlS: 60 }),
      maxPayloadBytes: options.maxPayloadBytes,
      maxJsonDepth: options.maxJsonDepth,
      canPublish: () => true,
    },
    presence: { presence: state.presence, directory: options.directory },
    health: { report: () => warmReport, registry },
  });
  const server = createServer(twin);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { port } = server.address() as AddressInfo;
  const channel = `warm-up.${randomBytes(12).toString("hex")}`;
  try {
    let next = 0;
    let accepted = 0;
    const worker = async (): Promise<void> => {
      while (next < options.calls) {
        const i = next++;
        // Shaped like a Laravel notification: an object with a nested one (3 levels of JSON).
        const data = { i, type: "warm-up", text: "warm-up", user: { id: i, name: "warm-up" } };
        const body = JSON.stringify({ event: "warm-up", to: "channel", channel, data });
        const headers: Record<string, string> = { "Content-Type": "application/json", "X-WebSocket-API-Key": key };
        // Half with an Idempotency-Key: the other path of the publisher and the history.
        if (i % 2 === 1) headers["Idempotency-Key"] = `warm-up-${i}`;
        if ((await call(agent, port, "POST", "/api/broadcast", headers, body)) === 200) accepted += 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await call(agent, port, "GET", "/metrics", {}, undefined);
    return accepted;
  } finally {
    agent.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await state.close();
  }
}

/** Calls in flight during the warm-up: enough to exercise the loop's queueing, not to hold a core for long. */
const CONCURRENCY = 4;

const warmReport = {
  status: "ok" as const,
  node: "warm-up",
  uptime_s: 0,
  connections: 0,
  redis: "embedded" as const,
  version: VERSION,
};

function call(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Opens one Engine.IO WebSocket session to the node's Engine.IO and closes it once open: the
 * fast-path check (socket/internals/fast-path-check.ts) runs on it, and Engine.IO's and ws'
 * connection code runs once. It goes through a private loopback server that hands its upgrade to
 * Engine.IO (`engine.handleUpgrade`, public), before the node listens: the handshake gate never
 * sees it, so it counts against no rate or cap. It never sends a Socket.IO CONNECT, so no socket,
 * no presence and no metric comes of it. Resolves false when the session did not open in `timeoutMs`.
 */
export async function probeWebSocket(io: RealtimeServer, timeoutMs = 2000): Promise<boolean> {
  const engine = io.engine as unknown as { handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void };
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => engine.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const opened = await new Promise<boolean>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${io.path()}/?EIO=4&transport=websocket`);
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(result: boolean): void {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on("error", () => undefined);
      ws.terminate();
      resolve(result);
    }
    // Engine.IO's open packet ("0{...}") is its first message.
    ws.once("message", () => finish(true));
    ws.once("error", () => finish(false));
    ws.once("close", () => finish(false));
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return opened;
}
