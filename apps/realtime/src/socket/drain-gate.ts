import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * While the node drains, Socket.IO requests that do not belong to one of its own open sessions
 * (new handshakes, and requests of sessions that now live on another node but reach this one
 * through nginx's address hash) get a plain 503 before Engine.IO sees them. nginx
 * (`proxy_next_upstream ... http_503 non_idempotent` on /socket.io/) then tries the next node at
 * once, and a stock client that still sees the error reconnects by itself with backoff. A refusal
 * from Socket.IO middleware would instead reach the client as a `connect_error` that it does not
 * retry. Must be installed after Socket.IO attached its listeners, so that it runs first.
 */
export function installDrainGate(
  httpServer: HttpServer,
  path: string,
  isDraining: () => boolean,
  hasSession: (sid: string) => boolean,
): void {
  const refuses = (req: IncomingMessage): boolean => {
    const url = req.url ?? "";
    if (!isDraining() || !url.startsWith(`${path}/`)) return false;
    const sid = /[?&]sid=([^&]+)/.exec(url)?.[1];
    return sid === undefined || !hasSession(decodeURIComponent(sid));
  };

  const requestListeners = httpServer.listeners("request") as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >;
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!refuses(req)) return requestListeners.forEach((listener) => listener.call(httpServer, req, res));
    res.writeHead(503, { "content-type": "application/json", connection: "close" }).end('{"code":"draining"}');
  });

  const upgradeListeners = httpServer.listeners("upgrade") as Array<
    (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  >;
  httpServer.removeAllListeners("upgrade");
  httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!refuses(req)) return upgradeListeners.forEach((listener) => listener.call(httpServer, req, socket, head));
    socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
}
