import type { EventEmitter } from "node:events";
import type { RealtimeSocket } from "../types";
import { compactListenerTable } from "./compact-listener-tables";

/**
 * Memory per connection is a feature (T5). Engine.IO and Socket.IO keep, for the whole life of a
 * connection, things that nothing reads once the Socket.IO handshake is done:
 *
 * - `conn.request`, the `IncomingMessage` of the first request (headers, raw headers, url, query,
 *   stream state). Engine.IO only reads it in its constructor (remote address, cached); Socket.IO
 *   reads it to build `socket.handshake`, when a namespace socket is created.
 * - For a WebSocket, Engine.IO's upgrade response object stays listening for the TCP socket's
 *   `close` (`socket.once("close", () => this.emit("close"))`, for HTTP middlewares, of which we
 *   have none), and that listener holds the response and through it the upgrade request.
 * - A WebSocket that opened the session directly keeps Engine.IO's `onUpgradeError` listener,
 *   which does nothing (the transport's own error listener takes over).
 * - `socket.handshake` holds the headers, the query and `auth`: the JWT, which must not stay in
 *   memory after it was verified anyway (and with `ALLOW_QUERY_TOKEN`, the url and query hold it).
 *
 * - Socket.IO's packet decoder keeps its one `decoded` listener (component-emitter `_callbacks`) in
 *   an array grown to 17 slots: copied to one of its own length (~130 B less).
 *
 * Dropping them saved ~2 KB of heap per idle connection. Called on `connection`, after the auth
 * middleware and after `auth.since` was read; `releaseUpgradeRequest` again when a polling session
 * upgrades to WebSocket. Both then compact what the connection keeps for its whole life
 * (`compactConnection`).
 */
export function trimConnection(socket: RealtimeSocket, path: string): void {
  const conn = socket.conn as unknown as { request: unknown; transport: unknown };
  releaseUpgradeRequest(conn.transport);
  conn.request = null;
  const handshake = socket.handshake;
  handshake.headers = EMPTY as typeof handshake.headers;
  handshake.query = EMPTY as typeof handshake.query;
  handshake.auth = EMPTY;
  handshake.url = path;
  compactListenerArrays((socket.client as unknown as { decoder?: { _callbacks?: unknown } }).decoder?._callbacks);
  compactConnection(conn);
}

/** component-emitter's table: `$event` → listener array. */
function compactListenerArrays(callbacks: unknown): void {
  if (typeof callbacks !== "object" || callbacks === null) return;
  const table = callbacks as Record<string, unknown>;
  for (const key of Object.keys(table)) {
    const listeners = table[key];
    if (Array.isArray(listeners)) table[key] = listeners.slice();
  }
}

const EMPTY: Record<string, never> = Object.freeze({});

interface WebSocketTransport {
  name?: string;
  /** The `ws` WebSocket, and its TCP socket. */
  socket?: EventEmitter & { _socket?: EventEmitter };
}

type OnceWrapper = ((...args: unknown[]) => void) & { listener?: (...args: unknown[]) => void };

/** Engine.IO's upgrade response's listener (engine.io/build/server.js, class WebSocketResponse). */
const RESPONSE_CLOSE_LISTENER = '() => this.emit("close")';

interface EngineConnection {
  transport: unknown;
  /** Engine.IO's cleanups for the current transport (one function), in an array grown to 17 slots. */
  cleanupFn?: unknown[];
}

/**
 * What an Engine.IO connection on WebSocket keeps for its whole life, compacted once its listeners
 * are set (compact-listener-tables.ts): the listener tables of Engine.IO's socket, its WebSocket
 * transport and ws' WebSocket; the transport's `headers` listener, which only a polling transport
 * ever calls (Engine.IO's WebSocket transport never emits `headers`); and `cleanupFn`, copied to an
 * array of its own length (~130 B less). A polling connection is compacted when it upgrades.
 */
export function compactConnection(connection: unknown): void {
  const conn = connection as EngineConnection;
  const transport = conn.transport as (WebSocketTransport & EventEmitter) | null;
  if (transport?.name !== "websocket") return;
  transport.removeAllListeners("headers");
  compactListenerTable(conn);
  compactListenerTable(transport);
  compactListenerTable(transport.socket);
  if (Array.isArray(conn.cleanupFn)) conn.cleanupFn = conn.cleanupFn.slice();
}

/** Drops what still holds the WebSocket upgrade request once the transport runs (see above). */
export function releaseUpgradeRequest(transport: unknown): void {
  const websocket = (transport as WebSocketTransport | null)?.socket;
  if ((transport as WebSocketTransport | null)?.name !== "websocket" || !websocket) return;
  for (const listener of websocket.listeners("error")) {
    if (listener.name === "onUpgradeError") websocket.removeListener("error", listener as OnceWrapper);
  }
  const tcp = websocket._socket;
  if (!tcp) return;
  for (const wrapper of tcp.rawListeners("close") as OnceWrapper[]) {
    if (wrapper.listener?.toString() === RESPONSE_CLOSE_LISTENER) tcp.removeListener("close", wrapper);
  }
}
