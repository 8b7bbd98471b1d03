import { createServer, RequestListener, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiKeyVerifier } from "./auth/api-key-verifier";
import { createJwtTokenVerifier } from "./auth/jwt-token-verifier";
import { createLaravelChannelAuthorizer } from "./auth/laravel-channel-authorizer";
import type { Config } from "./config/schema";
import { publicChannels } from "./core/channel-access";
import { systemClock, Clock, ChannelAuthorizer, ChannelInterest, PresenceNotifier } from "./core/ports";
import { PresenceService } from "./core/presence-service";
import { Publisher } from "./core/publisher";
import { createHttpApp } from "./http/create-http-app";
import type { HealthReport } from "./http/routes/health";
import { errorDetail, Logger } from "./observability/logger";
import type { RealtimeMetrics } from "./observability/metrics";
import { createSocketServer } from "./socket/create-socket-server";
import { LocalDelivery } from "./socket/local-delivery";
import { startSlowConsumerGuard } from "./socket/slow-consumer-guard";
import { createSocketDirectory } from "./socket/socket-directory";
import type { RealtimeServer } from "./socket/types";
import type { SharedState } from "./state/shared-state";
import { VERSION } from "./version";
import { createPresenceWebhook, noPresenceWebhook } from "./webhooks/laravel-presence-webhook";

export interface RealtimeDeps {
  config: Config;
  logger: Logger;
  metrics: RealtimeMetrics;
  state: SharedState;
  clock?: Clock;
}

export interface RealtimeApp {
  readonly io: RealtimeServer;
  readonly httpServer: HttpServer;
  /** Listens on `config.port` (0 picks a free port) and resolves with the bound address. */
  start(): Promise<AddressInfo>;
  /** Graceful stop: drain sockets (they reconnect elsewhere), then close every part, newest first. */
  stop(): Promise<void>;
}

/** Builds a node from its parts; nothing listens or ticks until `start()`. */
export function createRealtimeApp(deps: RealtimeDeps): RealtimeApp {
  const { config, logger, metrics, state } = deps;
  const clock = deps.clock ?? systemClock;
  const startedAt = clock.now();
  let draining = false;

  const notifier = createNotifier(config, logger, metrics);
  const authorizer = createAuthorizer(config, clock);
  const verifier = createJwtTokenVerifier({
    secret: config.jwtSecret,
    issuers: config.jwtIssuer,
    audience: config.jwtAudience,
  });
  const presenceService = new PresenceService({
    store: state.presence,
    broadcaster: state.broadcaster,
    notifier,
    clock,
    graceMs: config.presenceGraceMs,
    onError: (error) => logger.error("presence sweep failed", errorDetail(error)),
  });
  const publisher = new Publisher({
    broadcaster: state.broadcaster,
    idempotencyTtlS: config.idempotencyTtlS,
  });

  // Socket.IO takes over the request listeners present when it attaches, forwarding what is not
  // its own; so Koa must be registered first, through this indirection (Koa is built below).
  let handleHttp: RequestListener = (_req, res) => res.writeHead(503).end();
  const httpServer = createServer((req, res) => handleHttp(req, res));
  const { io, context } = createSocketServer(httpServer, {
    corsOrigins: config.corsOrigins,
    maxPayloadBytes: config.maxPayloadBytes,
    socketEventRateLimit: config.socketEventRateLimit,
    adapter: state.adapter,
    isDraining: () => draining,
    presence: presenceService,
    auth: {
      verifier,
      allowGuests: config.allowGuests,
      allowQueryToken: config.allowQueryToken,
      onFailure: (code) => metrics.authFailures.inc({ kind: code }),
    },
    buildContext: (server) => ({
      delivery: new LocalDelivery(server, state.history, (message, written) => {
        if (message.meta) metrics.broadcastLatency.observe((clock.now() - message.meta.ts) / 1000);
        if (written.direct > 0) metrics.socketWrites.inc({ path: "direct" }, written.direct);
        if (written.queued > 0) metrics.socketWrites.inc({ path: "queued" }, written.queued);
      }),
      authorizer,
      presence: state.presence,
      directory: createSocketDirectory(server),
      verifier,
      metrics,
      logger,
      maxSubscriptions: config.maxSubscriptions,
    }),
  });
  state.broadcaster.onMessage(context.delivery.deliver);
  state.broadcaster.onGap((sinceMs, channels) => {
    logger.warn("bus was down: replaying what this node's sockets missed", {
      since: new Date(sinceMs).toISOString(),
      channels: channels?.length ?? "all",
    });
    context.delivery
      .catchUp(sinceMs, channels)
      .catch((error: unknown) => logger.error("gap replay failed", errorDetail(error)));
  });
  followRooms(io, state.interest);
  metrics.countOnlineUsers = async () => (await state.presence.listOnline(1, null)).count;
  metrics.isBackendUp = () => state.health.state() === "ok";
  metrics.countMastersWithoutReplica = () => state.health.mastersWithoutReplica?.() ?? 0;

  const report = (): HealthReport => {
    const backend = state.health.state();
    return {
      status: draining ? "draining" : backend === "ok" ? "ok" : "degraded",
      node: config.nodeId,
      uptime_s: Math.floor((clock.now() - startedAt) / 1000),
      connections: io.of("/").sockets.size,
      redis: state.health.mode === "embedded" ? "embedded" : backend,
      ...(state.health.durability ? { durability: state.health.durability() } : {}),
      version: VERSION,
    };
  };

  const koa = createHttpApp({
    logger,
    metrics,
    corsOrigins: config.corsOrigins,
    auth: {
      keys: createApiKeyVerifier(config.laravelApiKey, config.apiKeyHashes),
      rateLimiter: state.rateLimiter,
      ratePerSecond: config.apiRateLimit,
    },
    broadcast: {
      publisher,
      maxPayloadBytes: config.maxPayloadBytes,
      canPublish: () => !draining && state.health.state() === "ok",
    },
    presence: { presence: state.presence, directory: context.directory },
    health: { report, registry: metrics.registry, metricsToken: config.metricsToken },
  });
  handleHttp = koa.callback();

  let guard: { stop(): void } | undefined;

  return {
    io,
    httpServer,
    async start() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve());
      });
      presenceService.start();
      guard = startSlowConsumerGuard(io, (socket) => {
        logger.warn("slow consumer cut off", { socket: socket.id });
        metrics.disconnections.inc({ reason: "slow_consumer" });
      });
      return httpServer.address() as AddressInfo;
    },
    async stop() {
      if (draining) return;
      draining = true;
      const deadline = clock.now() + Math.max(100, config.shutdownTimeoutMs - 1000);
      await drainSockets(io, deadline);
      guard?.stop();
      presenceService.stop();
      await closeHttp(httpServer, io);
      await notifier.close();
      await state.close();
    },
  };
}

/**
 * Tells the bus which channels have a member here: Socket.IO's adapter creates a room with its first
 * member and deletes it with its last. A socket's own room (its id) is no channel.
 */
function followRooms(io: RealtimeServer, interest: ChannelInterest): void {
  const nsp = io.of("/");
  nsp.adapter.on("create-room", (room: string) => {
    if (!nsp.sockets.has(room)) interest.hold(room);
  });
  nsp.adapter.on("delete-room", (room: string) => {
    if (!nsp.sockets.has(room)) interest.release(room);
  });
}

/**
 * Closes every socket's transport (not `socket.disconnect()`, which a stock client takes as a kick):
 * clients reconnect by themselves, through nginx to another node. Waits until they left or `deadline`.
 */
async function drainSockets(io: RealtimeServer, deadline: number): Promise<void> {
  for (const socket of io.of("/").sockets.values()) socket.conn.close();
  while (io.of("/").sockets.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  for (const socket of io.of("/").sockets.values()) socket.conn.close(true);
}

async function closeHttp(httpServer: HttpServer, io: RealtimeServer): Promise<void> {
  const closed = new Promise<void>((resolve) => io.close(() => resolve()));
  httpServer.closeIdleConnections();
  setTimeout(() => httpServer.closeAllConnections(), 1000).unref();
  await closed;
}

function createNotifier(config: Config, logger: Logger, metrics: RealtimeMetrics): PresenceNotifier {
  if (!config.laravelApiUrl || !config.laravelApiKey) return noPresenceWebhook;
  return createPresenceWebhook({
    laravelApiUrl: config.laravelApiUrl,
    apiKey: config.laravelApiKey,
    onResult: (outcome, transition, detail) => {
      metrics.presenceWebhooks.inc({ outcome });
      if (outcome === "failed")
        logger.warn("presence webhook failed", { event: transition.event, user_id: transition.user_id, detail });
    },
  });
}

function createAuthorizer(config: Config, clock: Clock): ChannelAuthorizer {
  if (config.channelAuth === "none" || !config.laravelApiUrl || !config.laravelApiKey) return publicChannels;
  return createLaravelChannelAuthorizer({ laravelApiUrl: config.laravelApiUrl, apiKey: config.laravelApiKey, clock });
}
