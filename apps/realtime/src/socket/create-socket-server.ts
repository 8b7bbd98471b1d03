import type { Server as HttpServer } from "node:http";
import { Server, ServerOptions } from "socket.io";
import { ALL_CHANNEL, userChannel } from "@mechamap/protocol";
import type { PresenceService } from "../core/presence-service";
import { errorDetail } from "../observability/logger";
import { createSocketAuthMiddleware, SocketAuthOptions } from "./auth-middleware";
import { coalesceWebSocketWrites } from "./coalesce-writes";
import { installDrainGate } from "./drain-gate";
import type { SocketContext } from "./context";
import { createClientEventListeners } from "./client-event-listeners";
import { cancelExpiry, scheduleExpiry } from "./token-expiry";
import type { RealtimeServer, RealtimeSocket } from "./types";

export interface SocketServerOptions {
  corsOrigins: string[];
  maxPayloadBytes: number;
  socketEventRateLimit: number;
  adapter?: ServerOptions["adapter"];
  auth: SocketAuthOptions;
  /** True while the node drains: new handshakes are refused (drain-gate.ts). */
  isDraining: () => boolean;
  /** Called once the server exists, to build what needs it (delivery, directory). */
  buildContext: (io: RealtimeServer) => SocketContext;
  presence: PresenceService;
}

/** Socket.IO on the given HTTP server: authentication, the user's channel, presence, client events. */
export function createSocketServer(httpServer: HttpServer, options: SocketServerOptions) {
  const io: RealtimeServer = new Server(httpServer, {
    path: "/socket.io",
    transports: ["polling", "websocket"],
    maxHttpBufferSize: options.maxPayloadBytes,
    cors: { origin: options.corsOrigins.includes("*") ? true : options.corsOrigins, credentials: true },
    serveClient: false,
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });
  const engine = io.engine as unknown as { clients: Record<string, unknown> };
  installDrainGate(httpServer, "/socket.io", options.isDraining, (sid) => Object.hasOwn(engine.clients, sid));
  const context = options.buildContext(io);
  const listeners = createClientEventListeners(context, options.socketEventRateLimit);
  io.use(createSocketAuthMiddleware(options.auth));
  io.on("connection", (socket) => onConnection(context, options, socket, listeners));
  return { io, context };
}

function onConnection(
  context: SocketContext,
  options: SocketServerOptions,
  socket: RealtimeSocket,
  listeners: ReturnType<typeof createClientEventListeners>,
): void {
  const { metrics, logger } = context;
  const { userId } = socket.data;
  metrics.connectedSockets.inc();
  metrics.connections.inc({ transport: socket.conn.transport.name });
  for (const [event, listener] of listeners) socket.on(event as "subscribe", listener);
  if (socket.conn.transport.name === "websocket") coalesceWebSocketWrites(socket.conn.transport);
  else socket.conn.once("upgrade", coalesceWebSocketWrites);

  let joinedPresence: Promise<void> = Promise.resolve();
  if (userId !== null) {
    void socket.join(userChannel(userId));
    scheduleExpiry(socket);
    joinedPresence = options.presence.connected(userId, socket.id).catch((error: unknown) => {
      logger.error("presence connect failed", errorDetail(error));
    });
  }
  void recoverFromHandshake(context, socket);

  socket.on("disconnect", (reason) => {
    metrics.connectedSockets.dec();
    metrics.disconnections.inc({ reason: reason.replace(/ /g, "_") });
    cancelExpiry(socket);
    if (userId === null) return;
    void joinedPresence
      .then(() => options.presence.disconnected(userId, socket.id))
      .catch((error: unknown) => logger.error("presence disconnect failed", errorDetail(error)));
  });
}

/** `auth.since` offsets for the user's own channel and for `all`, sent in the handshake. */
async function recoverFromHandshake(context: SocketContext, socket: RealtimeSocket): Promise<void> {
  const since = (socket.handshake.auth as { since?: unknown }).since;
  if (typeof since !== "object" || since === null) return;
  const { userId } = socket.data;
  const own = userId === null ? [] : [userChannel(userId)];
  for (const channel of [...own, ALL_CHANNEL]) {
    const offset = (since as Record<string, unknown>)[channel];
    if (typeof offset !== "string") continue;
    try {
      const recovered = await context.delivery.join(socket, channel, offset);
      context.metrics.historyReplays.inc({ outcome: recovered ? "recovered" : "gap" });
      if (!recovered) socket.emit("recovery_failed", { channel });
    } catch (error) {
      context.logger.error("handshake recovery failed", { channel, ...errorDetail(error) });
      socket.emit("recovery_failed", { channel });
    }
  }
}
