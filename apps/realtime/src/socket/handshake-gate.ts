import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { HANDSHAKE_REFUSALS, HandshakeRefusalCode } from "@mechamap/protocol";

export interface HandshakeGateOptions {
  /** Socket.IO's path, without the trailing slash. */
  path: string;
  /** True when `sid` is one of this node's open Engine.IO sessions. */
  hasSession: (sid: string) => boolean;
  isDraining: () => boolean;
  /** True when the node holds MAX_CONNECTIONS sessions. */
  isFull: () => boolean;
  /** Whether a browser `Origin` may open sockets (requests without one are judged by their token). */
  originAllowed: (origin: string) => boolean;
  /** Counts a new session against its client's rate; undefined when the request is not limited. */
  rateOf: (req: IncomingMessage) => Promise<{ allowed: boolean; retryAfterS: number }> | undefined;
  onRefusal: (code: HandshakeRefusalCode) => void;
}

type Refusal = { code: HandshakeRefusalCode; retryAfterS?: number } | undefined;

/**
 * Judges every Socket.IO HTTP request (handshake, poll, WebSocket upgrade) before Engine.IO sees it,
 * and answers a refusal as a plain status: `503` while draining or full, so that nginx
 * (`proxy_next_upstream ... http_503 non_idempotent` on /socket.io/) tries the next node at once;
 * `403` for a foreign `Origin`; `429` past the client's handshake rate. A stock client takes these as
 * a transport error and retries with backoff, whereas a refusal from Socket.IO middleware reaches it
 * as a `connect_error` that it does not retry.
 *
 * Engine.IO's own `allowRequest` hook is not used: it only runs for new sessions, is answered 400
 * (not 403) on the WebSocket upgrade path (engine.io 6.6 `abortUpgrade`), and cannot say 503 or 429.
 *
 * Requests of an open session pass, but for the `Origin` check. Requests of a session this node does
 * not hold (it lives on another node and reached this one through nginx's address hash) are refused
 * while draining. Must be installed after Socket.IO attached its listeners, so that it runs first.
 */
export function installHandshakeGate(httpServer: HttpServer, options: HandshakeGateOptions): void {
  const judge = (req: IncomingMessage): Refusal | Promise<Refusal> => {
    const url = req.url ?? "";
    if (!url.startsWith(`${options.path}/`)) return undefined;
    const rawSid = /[?&]sid=([^&]+)/.exec(url)?.[1];
    const sid = rawSid === undefined ? undefined : safeDecode(rawSid);
    const known = sid !== undefined && options.hasSession(sid);
    if (options.isDraining() && !known) return { code: "draining" };
    const origin = req.headers.origin;
    if (origin !== undefined && !options.originAllowed(origin)) return { code: "origin_not_allowed" };
    if (rawSid !== undefined) return undefined;
    if (options.isFull()) return { code: "node_full" };
    const rate = options.rateOf(req);
    if (rate === undefined) return undefined;
    return rate.then((verdict) => {
      if (!verdict.allowed) return { code: "rate_limited", retryAfterS: verdict.retryAfterS };
      // The wait may have let other handshakes in.
      return options.isFull() ? { code: "node_full" } : undefined;
    });
  };

  const requestListeners = httpServer.listeners("request") as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const pass = (): void => requestListeners.forEach((listener) => listener.call(httpServer, req, res));
    const refuse = (refusal: NonNullable<Refusal>): void => {
      options.onRefusal(refusal.code);
      res.writeHead(HANDSHAKE_REFUSALS[refusal.code], headersOf(refusal)).end(bodyOf(refusal));
    };
    settle(judge(req), req.socket, pass, refuse);
  });

  const upgradeListeners = httpServer.listeners("upgrade") as Array<
    (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  >;
  httpServer.removeAllListeners("upgrade");
  httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pass = (): void => upgradeListeners.forEach((listener) => listener.call(httpServer, req, socket, head));
    const refuse = (refusal: NonNullable<Refusal>): void => {
      options.onRefusal(refusal.code);
      const status = HANDSHAKE_REFUSALS[refusal.code];
      const body = bodyOf(refusal);
      const headers = Object.entries({ ...headersOf(refusal), "content-length": String(Buffer.byteLength(body)) });
      socket.on("error", () => undefined);
      socket.end(
        `HTTP/1.1 ${status} ${REASONS[status]}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`,
      );
    };
    settle(judge(req), socket, pass, refuse);
  });
}

/** Runs `pass` or `refuse` now when the verdict is known, else when it comes (if the client is still there). */
function settle(
  verdict: Refusal | Promise<Refusal>,
  socket: Duplex,
  pass: () => void,
  refuse: (refusal: NonNullable<Refusal>) => void,
): void {
  if (!(verdict instanceof Promise)) return verdict === undefined ? pass() : refuse(verdict);
  void verdict.then((late) => {
    if (socket.destroyed) return;
    if (late === undefined) pass();
    else refuse(late);
  });
}

const REASONS: Record<number, string> = { 403: "Forbidden", 429: "Too Many Requests", 503: "Service Unavailable" };

function headersOf(refusal: NonNullable<Refusal>): Record<string, string> {
  return {
    "content-type": "application/json",
    connection: "close",
    ...(refusal.retryAfterS !== undefined ? { "retry-after": String(refusal.retryAfterS) } : {}),
  };
}

const bodyOf = (refusal: NonNullable<Refusal>): string => JSON.stringify({ code: refusal.code });

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
