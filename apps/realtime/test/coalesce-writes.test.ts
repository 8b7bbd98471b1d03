import { connected, record, startNode, tokenFor, until } from "./helpers/node";

interface Tcp {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

describe("write coalescing", () => {
  it("writes a burst of 20 events to a socket in a few syscalls, not 20", async () => {
    const node = await startNode();
    const client = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(client);
    const serverSocket = [...node.app.io.of("/").sockets.values()][0];
    const tcp = (serverSocket.conn.transport as unknown as { socket: { _socket: Tcp } }).socket._socket;
    let writes = 0;
    for (const method of ["_write", "_writev"] as const) {
      const original = tcp[method];
      if (!original) continue;
      tcp[method] = (...args: unknown[]) => {
        writes++;
        return original.apply(tcp, args);
      };
    }
    const broadcasts = Array.from({ length: 20 }, (_, i) => ({ event: "burst", to: "user", user_id: 1, data: { i } }));
    expect((await node.api("/api/broadcast/batch", { body: { broadcasts } })).status).toBe(200);
    await until(() => got.length === 20);
    expect(got.map((e) => e.data.i)).toEqual(broadcasts.map((b) => b.data.i));
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(4);
  });
});
