import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * While the node drains, new Socket.IO handshakes (no `sid` yet) get a plain 503 before Engine.IO
 * sees them. A stock client treats that as a transport error and reconnects by itself with
 * backoff, and nginx (`proxy_next_upstream ... http_503`) sends the retry to another node at once.
 * A refusal from Socket.IO middleware would instead reach the client as a `connect_error` that it
 * does not retry. Must be installed after Socket.IO attached its listeners, so that it runs first.
 */
export function installDrainGate(httpServer: HttpServer, path: string, isDraining: () => boolean): void {
  const refuses = (req: IncomingMessage): boolean =>
    isDraining() && (req.url ?? "").startsWith(`${path}/`) && !/[?&]sid=/.test(req.url ?? "");

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
