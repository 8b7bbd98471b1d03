/**
 * The hand-written Socket.IO node the baselines share (bare, bare-cluster, sharded-cluster): the
 * minimum a team would write. JWT on connect, `subscribe {channel}` with an ack,
 * `POST /api/broadcast` → `io.to(room).emit`. Only the adapter differs between them.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, ServerOptions } from "socket.io";
import jwt from "jsonwebtoken";
import { announceListening, broadcastEndpoint, requiredEnv } from "./server-kit";

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
  const httpServer = createServer(
    broadcastEndpoint(requiredEnv("API_KEY"), (broadcast, meta) =>
      io.to(broadcast.channel).emit(broadcast.event, broadcast.data, meta),
    ),
  );

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
