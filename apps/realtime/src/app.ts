import type { RequestListener, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiKeyVerifier } from "./auth/api-key-verifier";
import { createJwtTokenVerifier, signToken } from "./auth/jwt-token-verifier";
import { createLaravelChannelAuthorizer } from "./auth/laravel-channel-authorizer";
import { createLaravelBroadcastAuthorizer } from "./auth/laravel-broadcast-authorizer";
import { ChannelDelivery } from "./core/channel-delivery";
import { ChannelPresence } from "./core/channel-presence";
import { parseLaravelMessage } from "./core/laravel-message";
import { createOriginAllowlist } from "./auth/origin-allowlist";
import type { Config } from "./config/schema";
import { publicChannels } from "./core/channel-access";
import {
  systemClock,
  systemScheduler,
  BroadcastAuthorizer,
  Clock,
  ChannelAuthorizer,
  ChannelInterest,
  PresenceNotifier,
  Scheduler,
} from "./core/ports";
import { PresenceService } from "./core/presence-service";
import { Publisher } from "./core/publisher";
import { createBoundedServer } from "./http/create-bounded-server";
import { createHttpApp } from "./http/create-http-app";
import type { HealthReport } from "./http/routes/health";
import { errorDetail, Logger } from "./observability/logger";
import type { RealtimeMetrics } from "./observability/metrics";
import { handshakeRate } from "./socket/connection-limits";
import { createSocketServer } from "./socket/create-socket-server";
import { SocketIoLocalSockets } from "./socket/socket-io-local-sockets";
import { startSlowConsumerGuard } from "./socket/internals/slow-consumer-guard";
import { createSocketDirectory } from "./socket/socket-directory";
import { TokenExpiry } from "./socket/token-expiry";
import type { RealtimeServer } from "./socket/types";
import type { SharedState } from "./state/shared-state";
import { VERSION } from "./version";
import { warmUp } from "./warm-up";
import { createPresenceWebhook, noPresenceWebhook } from "./webhooks/laravel-presence-webhook";

export interface RealtimeDeps {
  config: Config;
  logger: Logger;
  metrics: RealtimeMetrics;
  state: SharedState;
  /** Time as the node sees it: the system's unless a test drives it. */
  clock?: Clock;
  scheduler?: Scheduler;
}

export interface RealtimeApp {
  readonly io: RealtimeServer;
  readonly httpServer: HttpServer;
  /** Sockets waiting for their token to expire (diagnostics and tests). */
  pendingExpiries(): number;
  /** Listens on `config.port` (0 picks a free port) and resolves with the bound address. */
  start(): Promise<AddressInfo>;
  /** Graceful stop: drain sockets (they reconnect elsewhere), then close every part, newest first. */
  stop(): Promise<void>;
  /** Accepts these API keys from now on (SIGHUP); answers how many are accepted. */
  reloadApiKeys(laravelApiKey: string | undefined, apiKeyHashes: string[]): number;
}

/** Builds a node from its parts; nothing listens or ticks until `start()`. */
export function createRealtimeApp(deps: RealtimeDeps): RealtimeApp {
  const { config, logger, metrics, state } = deps;
  const clock = deps.clock ?? systemClock;
  const scheduler = deps.scheduler ?? systemScheduler;
  const expiry = new TokenExpiry(clock, scheduler);
  const startedAt = clock.now();
  let draining = false;

  // The key sent on callbacks to Laravel: the raw LARAVEL_API_KEY, which a SIGHUP may replace.
  let outgoingKey = config.laravelApiKey ?? "";
  const currentKey = (): string => outgoingKey;
  const notifier = createNotifier(config, logger, metrics, currentKey);
  const authorizer = createAuthorizer(config, clock, currentKey);
  const verifier = createJwtTokenVerifier({
    secret: config.jwtSecret,
    previousSecret: config.jwtSecretPrevious,
    issuers: config.jwtIssuer,
    audience: config.jwtAudience,
    clock,
  });
  const presenceService = new PresenceService({
    store: state.presence,
    broadcaster: state.broadcaster,
    notifier,
    clock,
    scheduler,
    graceMs: config.presenceGraceMs,
    onError: (error) => logger.error("presence sweep failed", errorDetail(error)),
  });
  const publisher = new Publisher({
    broadcaster: state.broadcaster,
    idempotencyTtlS: config.idempotencyTtlS,
  });
  const channelPresence = new ChannelPresence({
    members: state.channelMembers,
    broadcaster: state.broadcaster,
    clock,
    scheduler,
    graceMs: config.presenceGraceMs,
    onError: (error) => logger.error("presence channel sweep failed", errorDetail(error)),
  });
  const broadcastAuth = createBroadcastAuthorizer(config, clock);

  // Socket.IO takes over the request listeners present when it attaches, forwarding what is not
  // its own; so Koa must be registered first, through this indirection (Koa is built below).
  let handleHttp: RequestListener = (_req, res) => res.writeHead(503).end();
  const httpServer = createBoundedServer(config, (req, res) => handleHttp(req, res));
  const originAllowed = createOriginAllowlist(config.corsOrigins);
  const apiKeys = createApiKeyVerifier(config.laravelApiKey, config.apiKeyHashes);
  const sharedStateUp = (): boolean => state.health.state() === "ok";
  // Counted on every delivery: children bound once (prom-client hashes a label object on each call).
  const directWrites = metrics.socketWrites.labels({ path: "direct" });
  const queuedWrites = metrics.socketWrites.labels({ path: "queued" });
  const { io, context } = createSocketServer(httpServer, {
    maxPayloadBytes: config.maxPayloadBytes,
    socketEventRateLimit: config.socketEventRateLimit,
    maxConnections: config.maxConnections,
    adapter: state.adapter,
    gate: {
      isDraining: () => draining,
      originAllowed,
      rateOf: handshakeRate({
        limiter: state.rateLimiter,
        perSecond: config.handshakeRateLimit,
        proxyHops: config.trustProxyHops,
        sharedStateUp,
      }),
      onRefusal: (reason) => metrics.handshakesRefused.inc({ reason }),
    },
    userCap: {
      limit: config.maxConnectionsPerUser,
      admit: (userId, socketId, limit, holdMs) => presenceService.admit(userId, socketId, limit, holdMs),
      sharedStateUp,
      onRefusal: () => metrics.handshakesRefused.inc({ reason: "too_many_connections" }),
    },
    presence: presenceService,
    keepCookie: broadcastAuth !== undefined,
    auth: {
      verifier,
      allowGuests: config.allowGuests,
      allowQueryToken: config.allowQueryToken,
      onFailure: (code) => metrics.authFailures.inc({ kind: code }),
    },
    interest: state.interest,
    buildContext: (server) => ({
      delivery: new ChannelDelivery({
        sockets: new SocketIoLocalSockets(server),
        history: state.history,
        interest: state.interest,
        scheduler,
        onDelivered: (message, written) => {
          if (message.meta) metrics.broadcastLatency.observe((clock.now() - message.meta.ts) / 1000);
          if (written.direct > 0) directWrites.inc(written.direct);
          if (written.queued > 0) queuedWrites.inc(written.queued);
        },
        // Every channel of a lost shard fails at once: one warning each, the retries at debug level.
        onReadFailed: (channel, attempt, retryInMs, error) =>
          logger[attempt === 1 ? "warn" : "debug"]("gap replay: history read failed, retrying", {
            channel,
            attempt,
            retry_in_ms: retryInMs,
            ...errorDetail(error),
          }),
      }),
      authorizer,
      presence: state.presence,
      directory: createSocketDirectory(server),
      verifier,
      metrics,
      logger,
      maxSubscriptions: config.maxSubscriptions,
      clock,
      expiry,
      ...(config.echoCompat
        ? {
            echo: {
              presence: channelPresence,
              ...(broadcastAuth ? { broadcastAuth } : {}),
              signal: (message) => state.broadcaster.signal(message),
              maxPayloadBytes: config.maxPayloadBytes,
            },
          }
        : {}),
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

  const httpApp = createHttpApp({
    logger,
    metrics,
    corsOrigins: originAllowed,
    auth: {
      keys: apiKeys,
      rateLimiter: state.apiRateLimiter ?? state.rateLimiter,
      ratePerSecond: config.apiRateLimit,
    },
    broadcast: {
      publisher,
      maxPayloadBytes: config.maxPayloadBytes,
      maxJsonDepth: config.maxJsonDepth,
      canPublish: () => !draining && state.health.acceptsBroadcasts(),
    },
    presence: { presence: state.presence, directory: context.directory },
    health: { report, registry: metrics.registry, metricsToken: config.metricsToken },
    demo:
      config.nodeEnv === "production"
        ? undefined
        : {
            publisher,
            canPublish: () => !draining && state.health.acceptsBroadcasts(),
            signToken: (userId) => signToken(config.jwtSecret, userId, 3600),
            maxPayloadBytes: config.maxPayloadBytes,
            maxJsonDepth: config.maxJsonDepth,
          },
  });
  handleHttp = httpApp;

  let guard: { stop(): void } | undefined;

  /** One message of Laravel's RedisBroadcaster, taken in by this node alone: published like an API broadcast. */
  function takeLaravelMessage(channel: string, payload: string): void {
    const command = parseLaravelMessage(channel, payload, config.maxPayloadBytes);
    if ("problem" in command) {
      metrics.broadcasts.inc({ target: "laravel_redis", outcome: "rejected" });
      logger.warn("laravel redis message dropped", { problem: command.problem, bytes: payload.length });
      return;
    }
    publisher.publish(command).then(
      () => metrics.broadcasts.inc({ target: "laravel_redis", outcome: "accepted" }),
      (error: unknown) => {
        metrics.broadcasts.inc({ target: "laravel_redis", outcome: "unavailable" });
        logger.error("laravel redis message lost", { event: command.event, ...errorDetail(error) });
      },
    );
  }

  return {
    io,
    httpServer,
    pendingExpiries: () => expiry.pending(),
    async start() {
      await warmUp({ io, directory: context.directory, corsOrigins: originAllowed, config, logger, metrics });
      // Warm before listening: no request, health check or socket reaches cold code (warm-up.ts).
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve());
      });
      presenceService.start();
      if (config.echoCompat) channelPresence.start();
      await state.laravelInbox?.start((channel, payload) => takeLaravelMessage(channel, payload));
      if (config.nodeEnv === "production" && config.corsOrigins.includes("*")) {
        logger.warn("CORS_ORIGINS=* in production: any web page can open sockets with your users' browsers");
      }
      // Which secrets are in force, never their values.
      logger.info("secrets active", {
        jwt: config.jwtSecretPrevious ? ["JWT_SECRET", "JWT_SECRET_PREVIOUS"] : ["JWT_SECRET"],
        api_keys: apiKeys.count,
      });
      guard = startSlowConsumerGuard(io, (socket) => {
        logger.warn("slow consumer cut off", { socket: socket.id });
        metrics.disconnections.inc({ reason: "slow_consumer" });
      });
      return httpServer.address() as AddressInfo;
    },
    reloadApiKeys(laravelApiKey, apiKeyHashes) {
      apiKeys.replace(laravelApiKey, apiKeyHashes);
      // Callbacks need a raw key: without one in the new file they keep sending the last one.
      if (laravelApiKey) outgoingKey = laravelApiKey;
      return apiKeys.count;
    },
    async stop() {
      if (draining) return;
      draining = true;
      await drainSockets(io, Math.max(100, config.shutdownTimeoutMs - 1000), scheduler);
      guard?.stop();
      presenceService.stop();
      channelPresence.stop();
      expiry.stop();
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
    // The subscription is under way when the join returns; ChannelDelivery awaits it where it matters.
    if (!nsp.sockets.has(room)) void interest.hold(room);
  });
  nsp.adapter.on("delete-room", (room: string) => {
    if (!nsp.sockets.has(room)) interest.release(room);
  });
}

/**
 * Closes every socket's transport (not `socket.disconnect()`, which a stock client takes as a kick):
 * clients reconnect by themselves, through nginx to another node. Waits until they left, at most
 * `timeoutMs` (on the node's scheduler, like every other deadline), then cuts the rest.
 */
async function drainSockets(io: RealtimeServer, timeoutMs: number, scheduler: Scheduler): Promise<void> {
  const sockets = io.of("/").sockets;
  if (sockets.size > 0) {
    await new Promise<void>((resolve) => {
      const cancel = scheduler.after(timeoutMs, resolve);
      const left = (): void => {
        if (sockets.size > 0) return;
        cancel();
        resolve();
      };
      for (const socket of sockets.values()) {
        socket.once("disconnect", left);
        socket.conn.close();
      }
    });
  }
  for (const socket of sockets.values()) socket.conn.close(true);
}

async function closeHttp(httpServer: HttpServer, io: RealtimeServer): Promise<void> {
  const closed = new Promise<void>((resolve) => io.close(() => resolve()));
  httpServer.closeIdleConnections();
  setTimeout(() => httpServer.closeAllConnections(), 1000).unref();
  await closed;
}

function createNotifier(
  config: Config,
  logger: Logger,
  metrics: RealtimeMetrics,
  apiKey: () => string,
): PresenceNotifier {
  if (!config.laravelApiUrl || !config.laravelApiKey) return noPresenceWebhook;
  return createPresenceWebhook({
    laravelApiUrl: config.laravelApiUrl,
    apiKey,
    onResult: (outcome, transition, detail) => {
      metrics.presenceWebhooks.inc({ outcome });
      if (outcome === "failed")
        logger.warn("presence webhook failed", { event: transition.event, user_id: transition.user_id, detail });
    },
  });
}

/** Laravel's `/broadcasting/auth` for Echo's private-/presence- channels (ECHO_COMPAT, CHANNEL_AUTH=laravel). */
function createBroadcastAuthorizer(config: Config, clock: Clock): BroadcastAuthorizer | undefined {
  if (!config.echoCompat || config.channelAuth !== "laravel" || !config.laravelApiUrl) return undefined;
  return createLaravelBroadcastAuthorizer({ laravelApiUrl: config.laravelApiUrl, clock });
}

function createAuthorizer(config: Config, clock: Clock, apiKey: () => string): ChannelAuthorizer {
  if (config.channelAuth === "none" || !config.laravelApiUrl || !config.laravelApiKey) return publicChannels;
  return createLaravelChannelAuthorizer({ laravelApiUrl: config.laravelApiUrl, apiKey, clock });
}
