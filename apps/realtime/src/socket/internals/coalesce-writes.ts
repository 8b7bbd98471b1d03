interface WebSocketTransport {
  name: string;
  send(packets: unknown[]): void;
  socket?: { _socket?: { cork(): void; uncork(): void } };
}

const patched = new WeakSet<object>();

/**
 * Engine.IO sends a socket's queued packets as one frame each, and ws writes each frame with its
 * own syscall. Corking the TCP socket around one `send` turns a backlog (a burst) into a single
 * writev: one syscall per socket per flush instead of one per event, and nothing is delayed.
 * Patched once on Engine.IO's WebSocket transport class (given any instance of it), so that it
 * costs no memory per connection.
 */
export function coalesceWebSocketWrites(transport: unknown): void {
  const instance = transport as WebSocketTransport;
  if (instance.name !== "websocket") return;
  const prototype = Object.getPrototypeOf(instance) as WebSocketTransport;
  if (patched.has(prototype)) return;
  patched.add(prototype);
  const send = prototype.send;
  prototype.send = function (this: WebSocketTransport, packets: unknown[]) {
    const tcp = this.socket?._socket;
    if (!tcp) return send.call(this, packets);
    tcp.cork();
    try {
      send.call(this, packets);
    } finally {
      tcp.uncork();
    }
  };
}
