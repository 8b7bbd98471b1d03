/**
 * Baseline: bare socket.io 4.8 + @socket.io/redis-adapter, the minimum a team would write by hand.
 * JWT on connect, `subscribe {channel}` with an ack, `POST /api/broadcast` → `io.to(room).emit`.
 * Run as a program: PORT, API_KEY, JWT_SECRET, REDIS_PORT.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import Redis from "ioredis";
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

const jwtSecret = requiredEnv("JWT_SECRET");
const isAuthorized = apiKeyCheck(requiredEnv("API_KEY"));
const nextMeta = metaFactory();

const pub = new Redis({ host: "127.0.0.1", port: Number(requiredEnv("REDIS_PORT")), lazyConnect: false });
const sub = pub.duplicate();

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

const io = new Server(httpServer, { serveClient: false, adapter: createAdapter(pub, sub) });

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
    if (typeof request?.channel !== "string") return ack?.({ ok: false, error: "invalid" });
    void socket.join(request.channel);
    ack?.({ ok: true, channel: request.channel, recovered: false });
  });
});

// Nothing to drain in a bench run: exiting closes every socket.
process.once("SIGTERM", () => {
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
});

httpServer.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  announceListening((httpServer.address() as AddressInfo).port);
});
