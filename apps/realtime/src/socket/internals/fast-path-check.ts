import WebSocket from "ws";

/** The versions every file of this folder was read against (README.md); pinned in package.json. */
export const CHECKED_AGAINST = { "engine.io": "6.6.12", ws: "8.21.3", "socket.io": "4.8.4" } as const;

interface Probe {
  readyState?: unknown;
  writeBuffer?: unknown;
  transport?: {
    name?: unknown;
    socket?: {
      readyState?: unknown;
      _sender?: { _state?: unknown; _queue?: unknown };
      _socket?: { cork?: unknown; uncork?: unknown; write?: unknown; writableCorked?: unknown };
    };
  };
}

/**
 * What the frame writer (frame-writer.ts) and the write coalescing (coalesce-writes.ts) need of an
 * open Engine.IO WebSocket connection and of ws, and that this one lacks: empty when the fast path is
 * active. The writer checks the same fields on every write and falls back to Engine.IO when they are
 * missing, so a library upgrade that renames them costs CPU, not correctness; this names the loss.
 */
export function fastPathGaps(connection: unknown): string[] {
  const gaps: string[] = [];
  const conn = (connection ?? {}) as Probe;
  if (typeof (WebSocket as unknown as { Sender?: { frame?: unknown } }).Sender?.frame !== "function") {
    gaps.push("ws Sender.frame");
  }
  if (typeof conn.readyState !== "string") gaps.push("engine.io conn.readyState");
  if (!Array.isArray(conn.writeBuffer)) gaps.push("engine.io conn.writeBuffer");
  const transport = conn.transport;
  if (transport?.name !== "websocket") {
    gaps.push("engine.io websocket transport");
    return gaps;
  }
  if (typeof (Object.getPrototypeOf(transport) as { send?: unknown }).send !== "function") {
    gaps.push("engine.io WebSocket.prototype.send");
  }
  const ws = transport.socket;
  if (typeof ws?.readyState !== "number") gaps.push("engine.io transport.socket (ws)");
  if (typeof ws?._sender?._state !== "number") gaps.push("ws _sender._state");
  if (!Array.isArray(ws?._sender?._queue)) gaps.push("ws _sender._queue");
  const tcp = ws?._socket;
  const tcpMethods = tcp && [tcp.cork, tcp.uncork, tcp.write].every((method) => typeof method === "function");
  if (!tcpMethods || typeof tcp.writableCorked !== "number") gaps.push("ws _socket (net.Socket)");
  return gaps;
}

export interface FastPathWatch {
  /** Resolves with the gaps found on the first WebSocket session (empty: active). */
  readonly checked: Promise<string[]>;
  stop(): void;
}

interface EngineEvents {
  on(event: "connection", listener: (conn: EngineConnection) => void): unknown;
  off(event: "connection", listener: (conn: EngineConnection) => void): unknown;
}
interface EngineConnection {
  transport?: { name?: unknown };
  once(event: "upgrade", listener: () => void): unknown;
}

/**
 * Checks the fast path on the first Engine.IO session that runs on WebSocket (at start, the
 * warm-up's own loopback session), reports it once, and stops listening.
 */
export function watchFastPath(engine: unknown, report: (gaps: string[]) => void): FastPathWatch {
  const events = engine as EngineEvents;
  let resolve!: (gaps: string[]) => void;
  const checked = new Promise<string[]>((done) => (resolve = done));
  let done = false;
  const check = (conn: EngineConnection): void => {
    if (done) return;
    done = true;
    events.off("connection", onConnection);
    const gaps = fastPathGaps(conn);
    report(gaps);
    resolve(gaps);
  };
  const onConnection = (conn: EngineConnection): void => {
    if (conn.transport?.name === "websocket") check(conn);
    else conn.once("upgrade", () => check(conn));
  };
  events.on("connection", onConnection);
  return { checked, stop: () => events.off("connection", onConnection) };
}
