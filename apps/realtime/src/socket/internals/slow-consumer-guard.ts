import type { RealtimeServer, RealtimeSocket } from "../types";

/** Unsent bytes past which a socket that stopped reading is cut off. */
export const MAX_UNSENT_BYTES = 1024 * 1024;

interface EngineConnection {
  writeBuffer?: Array<{ data?: unknown }>;
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

/**
 * Engine.IO keeps a slow reader's backlog in `conn.writeBuffer` while its transport is busy, and ws
 * keeps more in `bufferedAmount`; neither has a bound. Checking both now and then keeps memory
 * bounded without work on the hot path. Terminating (not closing) is needed: a close waits for the
 * buffer to drain, which a reader that stopped never lets happen.
 */
export function startSlowConsumerGuard(io: RealtimeServer, onCut: (socket: RealtimeSocket) => void, everyMs = 1000) {
  const timer = setInterval(() => {
    for (const socket of io.of("/").sockets.values()) {
      const conn = socket.conn as unknown as EngineConnection;
      if (unsentBytes(conn) <= MAX_UNSENT_BYTES) continue;
      onCut(socket);
      conn.close(true);
      conn.transport?.socket?.terminate?.();
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function unsentBytes(conn: EngineConnection): number {
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer ?? []) {
    const data = packet.data;
    if (typeof data === "string") bytes += data.length;
    else if (data instanceof Uint8Array) bytes += data.byteLength;
  }
  return bytes;
}
