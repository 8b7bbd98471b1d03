import type { RealtimeSocket } from "./types";

interface WebSocketTransport {
  name: string;
  send(packets: unknown[]): void;
  socket?: { _socket?: { cork(): void; uncork(): void } };
}

/**
 * Engine.IO sends a socket's queued packets as one frame each, and ws writes each frame with its
 * own syscall. Corking the TCP socket around one `send` turns a backlog (a burst) into a single
 * writev: one syscall per socket per flush instead of one per event. Nothing is delayed.
 */
export function coalesceWrites(socket: RealtimeSocket): void {
  const wrap = (transport: WebSocketTransport): void => {
    const tcp = transport.socket?._socket;
    if (transport.name !== "websocket" || !tcp) return;
    const send = transport.send.bind(transport);
    transport.send = (packets) => {
      tcp.cork();
      try {
        send(packets);
      } finally {
        tcp.uncork();
      }
    };
  };
  wrap(socket.conn.transport as unknown as WebSocketTransport);
  socket.conn.once("upgrade", (transport: unknown) => wrap(transport as WebSocketTransport));
}
