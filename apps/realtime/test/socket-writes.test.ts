import { connected, record, startNode, TestNode, tokenFor, until } from "./helpers/node";

/** The server side of one connection: what the tests poke to see which path a write takes. */
interface ServerConnection {
  writeBuffer: unknown[];
  flush(): void;
  transport: { name: string; writable: boolean; socket?: { _socket: Tcp } };
}
interface Emitter {
  emit(event: string): void;
}
interface Tcp {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

function serverConnection(node: TestNode): ServerConnection {
  const [socket] = [...node.app.io.of("/").sockets.values()];
  return socket.conn as unknown as ServerConnection;
}

/** Counts the write syscalls Node makes on the connection's TCP socket from now on. */
function countTcpWrites(tcp: Tcp): () => number {
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    const original = tcp[method];
    if (!original) continue;
    tcp[method] = (...args: unknown[]) => {
      writes++;
      return original.apply(tcp, args);
    };
  }
  return () => writes;
}

async function socketWrites(node: TestNode): Promise<{ direct: number; queued: number }> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const count = (path: string) =>
    Number(new RegExp(`^realtime_socket_writes_total{path="${path}"} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { direct: count("direct"), queued: count("queued") };
}

const burst = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ event: "burst", to: "user", user_id: 1, data: { i: from + i } }));

describe("socket writes", () => {
  it("writes a burst to an idle websocket straight to TCP, in one syscall, in order", async () => {
    const node = await startNode();
    const got = record(await connected(node.url, { auth: { token: tokenFor(1) } }));
    const writes = countTcpWrites(serverConnection(node).transport.socket!._socket);
    const broadcasts = burst(20);
    expect((await node.api("/api/broadcast/batch", { body: { broadcasts } })).status).toBe(200);
    await until(() => got.length === 20);
    expect(got.map((e) => e.data.i)).toEqual(broadcasts.map((b) => b.data.i));
    // The batch is published in one turn: its 20 frames are corked together until the turn ends.
    expect(writes()).toBe(1);
    expect(await socketWrites(node)).toEqual({ direct: 20, queued: 0 });
  });

  it("queues behind what Engine.IO still holds for a busy socket, and sends it all in order and in one writev", async () => {
    const node = await startNode();
    const client = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(client);
    const conn = serverConnection(node);
    // A send in flight: Engine.IO keeps new packets in its writeBuffer until the transport drains.
    conn.transport.writable = false;
    for (const socket of node.app.io.of("/").sockets.values()) (socket as unknown as Emitter).emit("first");
    expect(conn.writeBuffer).toHaveLength(1);
    expect((await node.api("/api/broadcast/batch", { body: { broadcasts: burst(10) } })).status).toBe(200);
    expect(conn.writeBuffer).toHaveLength(11);
    const writes = countTcpWrites(conn.transport.socket!._socket);
    conn.transport.writable = true;
    conn.flush();
    expect((await node.api("/api/broadcast/batch", { body: { broadcasts: burst(5, 10) } })).status).toBe(200);
    await until(() => got.length === 16);
    expect(got.map((e) => (e.event === "first" ? "first" : e.data.i))).toEqual([
      "first",
      ...Array.from({ length: 15 }, (_, i) => i),
    ]);
    // One writev for the 11 flushed packets, then one for the 5 direct ones.
    expect(writes()).toBeLessThanOrEqual(2);
    expect(await socketWrites(node)).toEqual({ direct: 5, queued: 10 });
  });

  it("delivers through polling, and frames small, 64 KiB-class and unicode payloads byte for byte", async () => {
    const node = await startNode();
    const websocket = record(await connected(node.url, { auth: { token: tokenFor(1) } }));
    const polling = record(await connected(node.url, { auth: { token: tokenFor(1) }, transports: ["polling"] }));
    const payloads = [
      "",
      "x".repeat(125),
      "y".repeat(126),
      "z".repeat(70_000),
      'héllo ✓ 👋 \u2028 "quoted" \\ </script>',
    ];
    for (const text of payloads) {
      const response = await node.api("/api/broadcast", {
        body: { event: "sized", to: "user", user_id: 1, data: { text } },
      });
      expect(response.status).toBe(200);
    }
    await until(() => websocket.length === payloads.length && polling.length === payloads.length);
    expect(websocket.map((e) => e.data.text)).toEqual(payloads);
    expect(polling.map((e) => e.data.text)).toEqual(payloads);
    expect(websocket.map((e) => e.meta?.channel)).toEqual(payloads.map(() => "user.1"));
    expect(await socketWrites(node)).toEqual({ direct: payloads.length, queued: payloads.length });
  });
});
