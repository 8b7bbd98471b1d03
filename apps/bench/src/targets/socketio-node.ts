/**
 * The hand-written Socket.IO node the baselines share (bare, bare-cluster, sharded-cluster): the
 * minimum a team would write. JWT on connect, `subscribe {channel}` with an ack,
 * `POST /api/broadcast` → `io.to(room).emit`. Only the adapter differs between them.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, ServerOptions } from "socket.io";
import jwt from "jsonwebtoken";
import {
  announceListening,
  apiKeyCheck,
  metaFactory,
  parseChannelBroadcast,
  readBody,
  requiredEnv,
  sendJson,
} from "./server-kit";

export interface SocketIoNodeOptions {
  adapter: ServerOptions["adapter"];
  /**
   * Awaited after a socket joined `room` and before its `subscribe` is acknowledged; `created`
   * says the room is new on this node. Default: nothing to wait for.
   */
  afterJoin?: (room: string, created: boolean) => Promise<unknown> | undefined;
  /** Closes the Redis connections on SIGTERM. */
  close(): void;
}

/** Starts the node on PORT and prints the listening line the harness waits for. */
export function runSocketIoNode(options: SocketIoNodeOptions): void {
  const jwtSecret = requiredEnv("JWT_SECRET");
  const isAuthorized = apiKeyCheck(requiredEnv("API_KEY"));
  const nextMeta = metaFactory();

  const httpServer = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/api/broadcast") return sendJson(res, 404, { success: false });
    if (!isAuthorized(req)) return sendJson(res, 401, { success: false, error: "unauthorized" });
    readBody(req).then(
      (text) => {
        const broadcast = parseChannelBroadcast(text);
        if (!broadcast) return sendJson(res, 422, { success: false, error: "validation_failed" });
        const meta = nextMeta(broadcast.channel);
        io.to(broadcast.channel).emit(broadcast.event, broadcast.data, meta);
        sendJson(res, 200, { success: true, id: meta.id, channel: meta.channel, offset: meta.offset });
      },
      () => sendJson(res, 400, { success: false, error: "invalid_json" }),
    );
  });

  const io = new Server(httpServer, { serveClient: false, adapter: options.adapter });

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown }).token;
    try {
      if (typeof token !== "string") throw new Error("token_missing");
      const claims = jwt.verify(token, jwtSecret, { algorithms: ["HS256"] }) as jwt.JwtPayload;
      socket.data.userId = String(claims.sub);
      next();
    } catch {
      next(new Error("unauthorized"));
    }
  });

  io.on("connection", (socket) => {
    void socket.join(`user.${socket.data.userId as string}`);
    socket.on("subscribe", (request: { channel?: unknown }, ack?: (answer: object) => void) => {
      const channel = request?.channel;
      if (typeof channel !== "string") return ack?.({ ok: false, error: "invalid" });
      const created = !io.of("/").adapter.rooms.has(channel);
      void socket.join(channel);
      const answer = { ok: true, channel, recovered: false };
      const pending = options.afterJoin?.(channel, created);
      if (!pending) return ack?.(answer);
      pending.then(
        () => ack?.(answer),
        () => ack?.({ ok: false, error: "internal" }),
      );
    });
  });

  // Nothing to drain in a bench run: exiting closes every socket.
  process.once("SIGTERM", () => {
    options.close();
    process.exit(0);
  });

  httpServer.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    announceListening((httpServer.address() as AddressInfo).port);
  });
}
