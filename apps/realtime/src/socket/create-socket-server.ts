import type { Server as HttpServer } from "node:http";
import { Server, ServerOptions } from "socket.io";
import { ALL_CHANNEL, userChannel } from "@mechamap/protocol";
import type { ChannelInterest } from "../core/ports";
import type { PresenceService } from "../core/presence-service";
import { errorDetail } from "../observability/logger";
import { createSocketAuthMiddleware, SocketAuthOptions } from "./auth-middleware";
import { coalesceWebSocketWrites } from "./internals/coalesce-writes";
import { installHandshakeGate, HandshakeGateOptions } from "./handshake-gate";
import { userConnectionCap, UserConnectionCapOptions } from "./connection-limits";
import type { SocketContext } from "./context";
import { createClientEventListeners } from "./client-event-listeners";
import { SharedListeners } from "./internals/shared-listeners";
import { compactConnection, releaseUpgradeRequest, trimConnection } from "./internals/trim-connection";
import { trimIdleReceivers } from "./internals/idle-receiver";
import { dropDrainedCallbackQueues } from "./internals/drained-callbacks";
import { lazySocketAcks } from "./internals/lazy-acks";
import { leavePresence } from "./echo/echo-unsubscribe";
import type { RealtimeServer, RealtimeSocket } from "./types";

export interface SocketServerOptions {
  maxPayloadBytes: number;
  socketEventRateLimit: number;
  /** Engine.IO sessions this node takes (0: no cap); past it handshakes get 503 (handshake-gate.ts). */
  maxConnections: number;
  adapter?: ServerOptions["adapter"];
  auth: SocketAuthOptions;
  /** Draining, origin and rate checks before Engine.IO (handshake-gate.ts). */
  gate: Omit<HandshakeGateOptions, "path" | "hasSession" | "isFull">;
  userCap: UserConnectionCapOptions;
  /** Called once the server exists, to build what needs it (delivery, directory). */
  buildContext: (io: RealtimeServer) => SocketContext;
  presence: PresenceService;
  /** This node's bus subscriptions: the user's own channel is heard before CONNECT (ownChannelHeard). */
  interest: Pick<ChannelInterest, "hold" | "release">;
  /** Keep the handshake's Cookie for Laravel's `/broadcasting/auth` (Echo with CHANNEL_AUTH=laravel). */
  keepCookie: boolean;
}

/** Socket.IO on the given HTTP server: authentication, the user's channel, presence, client events. */
export function createSocketServer(httpServer: HttpServer, options: SocketServerOptions) {
  const io: RealtimeServer = new Server(httpServer, {
    path: SOCKET_PATH,
    transports: ["polling", "websocket"],
    maxHttpBufferSize: options.maxPayloadBytes,
    cors: {
      origin: (origin, allow) => allow(null, origin === undefined || options.gate.originAllowed(origin)),
      credentials: true,
    },
    serveClient: false,
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });
  const engine = io.engine as unknown as { clients: Record<string, unknown>; clientsCount: number };
  installHandshakeGate(httpServer, {
    ...options.gate,
    path: SOCKET_PATH,
    hasSession: (sid) => Object.hasOwn(engine.clients, sid),
    isFull: () => options.maxConnections > 0 && engine.clientsCount >= options.maxConnections,
  });
  const context = options.buildContext(io);
  // Presence joins still in flight, by socket id: a disconnect waits for its socket's join.
  const joining = new Map<string, Promise<void>>();
  const listeners = new SharedListeners([
    ...createClientEventListeners(context, options.socketEventRateLimit),
    ["disconnect", createDisconnectListener(context, options, joining)],
  ]);
  // Class-level memory cuts, before the first connection (internals/README.md).
  trimIdleReceivers();
  dropDrainedCallbackQueues();
  lazySocketAcks();
  io.use(createSocketAuthMiddleware(options.auth));
  io.use(userConnectionCap(options.userCap));
  io.use(ownChannelHeard(options.interest));
  io.on("connection", (socket) => onConnection(context, options, socket, listeners, joining));
  return { io, context };
}

const SOCKET_PATH = "/socket.io";

/**
 * Holds up CONNECT until this node hears the user's own channel (the first socket of a user on a
 * node subscribes it; `hold` waits 2 s at most): a notification sent right after the client saw
 * `connect` must not be missed. The join in onConnection keeps the subscription; should it never
 * come, the subscription taken here lingers out like any other.
 */
function ownChannelHeard(interest: SocketServerOptions["interest"]) {
  return (socket: RealtimeSocket, next: (error?: Error) => void): void => {
    const { userId } = socket.data;
    if (userId === null) return next();
    const channel = userChannel(userId);
    void interest.hold(channel).then(() => {
      if (!socket.nsp.adapter.rooms.has(channel)) interest.release(channel);
      next();
    });
  };
}

/** A polling session moved to WebSocket (`this` is the Engine.IO connection). */
function onUpgrade(this: unknown, transport: unknown): void {
  coalesceWebSocketWrites(transport);
  releaseUpgradeRequest(transport);
  compactConnection(this);
}

function onConnection(
  context: SocketContext,
  options: SocketServerOptions,
  socket: RealtimeSocket,
  listeners: SharedListeners,
  joining: Map<string, Promise<void>>,
): void {
  const { metrics, logger } = context;
  const { userId } = socket.data;
  metrics.connectedSockets.inc();
  metrics.connections.inc({ transport: socket.conn.transport.name });
  // Nothing per socket but the shared listeners (shared-listeners.ts): memory per connection.
  listeners.attach(socket);
  if (socket.conn.transport.name === "websocket") coalesceWebSocketWrites(socket.conn.transport);
  else socket.conn.once("upgrade", onUpgrade);

  if (userId !== null) {
    void socket.join(userChannel(userId));
    context.expiry.schedule(socket);
    const joined = options.presence.connected(userId, socket.id).then(
      () => void joining.delete(socket.id),
      (error: unknown) => {
        joining.delete(socket.id);
        logger.error("presence connect failed", errorDetail(error));
      },
    );
    joining.set(socket.id, joined);
  }
  const since = (socket.handshake.auth as { since?: unknown } | undefined)?.since;
  const cookie = options.keepCookie ? socket.handshake.headers.cookie : undefined;
  if (cookie) socket.data.cookie = cookie;
  // From here on the handshake (and the token in it) is gone: trim-connection.ts.
  trimConnection(socket, `${SOCKET_PATH}/`);
  void recoverFromHandshake(context, socket, since);
}

/** One `disconnect` listener for every socket of the server (`this` is the socket). */
function createDisconnectListener(
  context: SocketContext,
  options: SocketServerOptions,
  joining: Map<string, Promise<void>>,
) {
  const { metrics, logger } = context;
  return function (this: RealtimeSocket, reason: string): void {
    metrics.connectedSockets.dec();
    metrics.disconnections.inc({ reason: reason.replace(/ /g, "_") });
    context.expiry.cancel(this);
    if (context.echo && this.data.presenceChannels) {
      leavePresence(context.echo, this).catch((error: unknown) =>
        logger.error("presence channel leave failed", errorDetail(error)),
      );
    }
    const { userId } = this.data;
    if (userId === null) return;
    const socketId = this.id;
    const joined = joining.get(socketId);
    const left = (): Promise<void> => options.presence.disconnected(userId, socketId);
    void (joined ? joined.then(left) : left()).catch((error: unknown) =>
      logger.error("presence disconnect failed", errorDetail(error)),
    );
  };
}

/** `auth.since` offsets for the user's own channel and for `all`, sent in the handshake. */
async function recoverFromHandshake(context: SocketContext, socket: RealtimeSocket, since: unknown): Promise<void> {
  if (typeof since !== "object" || since === null) return;
  const { userId } = socket.data;
  const own = userId === null ? [] : [userChannel(userId)];
  for (const channel of [...own, ALL_CHANNEL]) {
    const offset = (since as Record<string, unknown>)[channel];
    if (typeof offset !== "string") continue;
    try {
      const recovered = await context.delivery.join(socket.id, channel, offset);
      context.metrics.historyReplays.inc({ outcome: recovered ? "recovered" : "gap" });
      if (!recovered) socket.emit("recovery_failed", { channel });
    } catch (error) {
      context.logger.error("handshake recovery failed", { channel, ...errorDetail(error) });
      socket.emit("recovery_failed", { channel });
    }
  }
}
