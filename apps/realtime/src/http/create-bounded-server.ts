import { createServer, RequestListener, Server as HttpServer } from "node:http";
import type { Config } from "../config/schema";

/**
 * The HTTP server with every limit set on purpose (docs/SECURITY.md, "The edge"): a client must send
 * its headers within HTTP_HEADERS_TIMEOUT_MS and its whole request within HTTP_REQUEST_TIMEOUT_MS
 * (408 and closed otherwise; a long-poll's answer is not part of that), at most MAX_HEADER_BYTES of
 * request line and headers (431), and headers past MAX_HEADERS are ignored. Node checks the timeouts
 * every `connectionsCheckingInterval` (30 s by default), so a slow client is cut within a second of them.
 * Idle keep-alive connections live longer than nginx's upstream keepalive_timeout (60 s), so nginx,
 * not the node, closes them: a request on a connection the node just closed would fail with a 502.
 */
export function createBoundedServer(config: Config, listener: RequestListener): HttpServer {
  const server = createServer(
    {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      maxHeaderSize: config.maxHeaderBytes,
      connectionsCheckingInterval: 1000,
    },
    listener,
  );
  server.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  server.maxHeadersCount = config.maxHeaders;
  return server;
}
