import type { IncomingMessage } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Socket as ClientSocket } from "socket.io-client";
import type { RealtimeSocket } from "../src/socket/types";
import { connected, record, request, startNode, tokenFor, until, type TestNode } from "./helpers/node";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
setFlagsFromString("--allow-natives-syntax");
/** V8's own answer: properties in the object (a shared hidden class), not a hash table of its own. */
const hasFastProperties = runInNewContext("(object) => %HasFastProperties(object)") as (object: object) => boolean;

/** The private fields the memory cuts change (src/socket/internals/README.md). */
interface Emitter {
  _events: object;
  listenerCount(event: string): number;
}
interface EngineConnection extends Emitter {
  cleanupFn: unknown[];
  sentCallbackFn: unknown[];
  transport: Emitter & {
    name: string;
    socket: Emitter & { _receiver: { _buffers: unknown[]; _mask: unknown } };
  };
}
const engineConnection = (socket: RealtimeSocket) => socket.conn as unknown as EngineConnection;
function weakParts(socket: RealtimeSocket): Array<WeakRef<object>> {
  const conn = engineConnection(socket);
  return [new WeakRef(socket), new WeakRef(conn), new WeakRef(conn.transport), new WeakRef(conn.transport.socket)];
}
const decoderListeners = (socket: RealtimeSocket) =>
  (socket.client as unknown as { decoder: { _callbacks: { $decoded: unknown[] } } }).decoder._callbacks.$decoded;

/** True once nothing holds the object any more (after full GCs). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    if (ref.deref() === undefined) return true;
  }
  return false;
}

function serverSocket(node: TestNode, client: ClientSocket): RealtimeSocket {
  const socket = node.app.io.of("/").sockets.get(client.id!);
  if (!socket) throw new Error(`no server socket ${client.id}`);
  return socket;
}

/** The requests that reach the HTTP server, weakly (a strong reference would be what we look for). */
function watchRequests(node: TestNode): Array<WeakRef<IncomingMessage>> {
  const requests: Array<WeakRef<IncomingMessage>> = [];
  const httpServer = (node.app.io as unknown as { httpServer: NodeJS.EventEmitter }).httpServer;
  const watch = (req: IncomingMessage) => {
    if (req.url?.startsWith("/socket.io/")) requests.push(new WeakRef(req));
  };
  httpServer.on("request", watch);
  httpServer.on("upgrade", watch);
  return requests;
}

describe("what a connection keeps after its handshake (memory per connection)", () => {
  it("drops the upgrade request, the headers and the token once a WebSocket session is connected", async () => {
    const node = await startNode();
    const requests = watchRequests(node);
    const token = tokenFor(3);
    const client = await connected(node.url, { auth: { token } });
    const socket = serverSocket(node, client);

    expect((socket.conn as unknown as { request: unknown }).request).toBeNull();
    expect(socket.handshake.auth).toEqual({});
    expect(socket.handshake.headers).toEqual({});
    expect(JSON.stringify(socket.handshake)).not.toContain(token);
    expect(requests).toHaveLength(1);
    expect(await collected(requests[0]!)).toBe(true);

    // Still a working socket: its user channel, a subscription, a broadcast.
    const received = record(client);
    expect(await request(client, "subscribe", { thread_id: 9 })).toMatchObject({ ok: true, channel: "thread.9" });
    await node.api("/api/broadcast", { body: { event: "new_reply", to: "thread", thread_id: 9, data: { n: 1 } } });
    await node.api("/api/broadcast", { body: { event: "notification", to: "user", user_id: 3, data: { n: 2 } } });
    await until(() => received.length === 2, 3000, "broadcasts");
    expect(received.map((event) => event.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("compacts what a WebSocket connection keeps for its life and drops what a parsed frame left", async () => {
    const node = await startNode();
    // What the connection held before the cuts, seen from a middleware (it runs before `connection`).
    const before = new Map<string, WeakRef<object>>();
    node.app.io.use((socket, next) => {
      const conn = engineConnection(socket);
      const ws = conn.transport.socket;
      before.set("Engine.IO socket's listener table", new WeakRef(conn._events));
      before.set("transport's listener table", new WeakRef(conn.transport._events));
      before.set("ws WebSocket's listener table", new WeakRef(ws._events));
      before.set("cleanupFn", new WeakRef(conn.cleanupFn));
      before.set("sentCallbackFn", new WeakRef(conn.sentCallbackFn));
      before.set("ws Receiver's chunk queue", new WeakRef(ws._receiver._buffers));
      before.set("decoder's listener array", new WeakRef(decoderListeners(socket)));
      next();
    });
    const client = await connected(node.url, { auth: { token: tokenFor(11) } });
    const socket = serverSocket(node, client);
    const conn = engineConnection(socket);
    const received = record(client);
    expect(await request(client, "subscribe", { thread_id: 2 })).toMatchObject({ ok: true });
    await node.api("/api/broadcast", { body: { event: "new_reply", to: "thread", thread_id: 2, data: { n: 1 } } });
    await until(() => received.length === 1 && conn.sentCallbackFn.length === 0, 3000, "broadcast, acks drained");

    expect([...before.keys()]).toHaveLength(7);
    for (const [what, ref] of before) expect([what, await collected(ref)]).toEqual([what, true]);
    for (const emitter of [conn, conn.transport, conn.transport.socket]) {
      expect(hasFastProperties(emitter._events)).toBe(true);
    }
    expect(conn.transport.listenerCount("headers")).toBe(0);
    expect(conn.cleanupFn).toHaveLength(1);
    expect(decoderListeners(socket)).toHaveLength(1);
    expect(conn.transport.socket._receiver._mask).toBeUndefined();
    expect(Object.hasOwn(socket, "acks")).toBe(false);
    // One subscription is kept as its channel's name, not in a Set (src/socket/subscriptions.ts).
    expect(socket.data.subscriptions).toBe("thread.2");

    // Still a whole connection: a second subscription and its broadcast.
    expect(await request(client, "subscribe", { thread_id: 3 })).toMatchObject({ ok: true });
    await node.api("/api/broadcast", { body: { event: "new_reply", to: "thread", thread_id: 3, data: { n: 2 } } });
    await until(() => received.length === 2, 3000, "second broadcast");
    expect(socket.data.subscriptions).toEqual(new Set(["thread.2", "thread.3"]));
    expect(await request(client, "unsubscribe", { thread_id: 2 })).toEqual({ ok: true });
    expect(await request(client, "unsubscribe", { thread_id: 2 })).toEqual({ ok: true });
    expect(socket.data.subscriptions).toEqual(new Set(["thread.3"]));
    expect(socket.rooms.has("thread.2")).toBe(false);
  });

  it("lets a disconnected connection go entirely", async () => {
    const node = await startNode();
    const client = await connected(node.url, { auth: { token: tokenFor(12) } });
    // Only weak references here: a local would be what keeps it.
    const refs = weakParts(serverSocket(node, client));
    expect(await request(client, "subscribe", { thread_id: 4 })).toMatchObject({ ok: true });
    client.disconnect();
    await until(() => node.app.io.of("/").sockets.size === 0, 3000, "server side disconnect");
    for (const ref of refs) expect(await collected(ref)).toBe(true);
  });

  it("keeps long-polling and the upgrade to WebSocket working, and drops both requests", async () => {
    const node = await startNode();
    const requests = watchRequests(node);
    const client = await connected(node.url, { transports: ["polling", "websocket"], auth: { token: tokenFor(4) } });
    const engine = client.io.engine;
    await until(() => engine.transport.name === "websocket", 5000, "upgrade");
    const socket = serverSocket(node, client);
    await until(() => socket.conn.transport.name === "websocket", 5000, "server side upgrade");
    expect((socket.conn as unknown as { request: unknown }).request).toBeNull();
    const conn = engineConnection(socket);
    for (const emitter of [conn, conn.transport, conn.transport.socket]) {
      expect(hasFastProperties(emitter._events)).toBe(true);
    }
    expect(conn.transport.listenerCount("headers")).toBe(0);

    const received = record(client);
    expect(await request(client, "subscribe", { thread_id: 5 })).toMatchObject({ ok: true });
    await node.api("/api/broadcast", { body: { event: "thread_updated", to: "thread", thread_id: 5, data: { n: 1 } } });
    await until(() => received.length === 1, 3000, "broadcast after the upgrade");

    const upgrade = requests.find((ref) => ref.deref()?.headers.upgrade === "websocket");
    expect(upgrade).toBeDefined();
    for (const ref of requests) expect(await collected(ref)).toBe(true);
  });

  it("keeps a polling-only session working", async () => {
    const node = await startNode();
    const client = await connected(node.url, { transports: ["polling"], auth: { token: tokenFor(6) } });
    const received = record(client);
    expect(await request(client, "subscribe", { thread_id: 6 })).toMatchObject({ ok: true });
    await node.api("/api/broadcast", { body: { event: "new_reply", to: "thread", thread_id: 6, data: { n: 1 } } });
    await until(() => received.length === 1, 3000, "broadcast over polling");
  });

  it("shares one listener table between sockets, and a listener added to one socket stays its own", async () => {
    const node = await startNode();
    const [first, second] = await Promise.all([
      connected(node.url, { auth: { token: tokenFor(7) } }),
      connected(node.url, { auth: { token: tokenFor(8) } }),
    ]);
    const [a, b] = [serverSocket(node, first), serverSocket(node, second)];
    const eventsOf = (socket: RealtimeSocket) => (socket as unknown as { _events: object })._events;
    expect(Reflect.ownKeys(eventsOf(a))).toEqual([]);
    expect(Object.getPrototypeOf(eventsOf(a))).toBe(Object.getPrototypeOf(eventsOf(b)));

    const seen: string[] = [];
    a.on("subscribe", () => seen.push("a"));
    expect(await request(first, "subscribe", { thread_id: 1 })).toMatchObject({ ok: true });
    expect(await request(second, "subscribe", { thread_id: 1 })).toMatchObject({ ok: true });
    expect(seen).toEqual(["a"]);
    expect(await request(second, "unsubscribe", { thread_id: 1 })).toEqual({ ok: true });
  });

  it("still delivers acknowledgements the server asks for", async () => {
    const node = await startNode();
    const client = await connected(node.url, { auth: { token: tokenFor(9) } });
    client.on("ping?", (n: number, ack: (answer: number) => void) => ack(n + 1));
    const socket = serverSocket(node, client) as unknown as {
      timeout(ms: number): { emitWithAck(event: string, n: number): Promise<number> };
    };
    expect(await socket.timeout(3000).emitWithAck("ping?", 1)).toBe(2);
    const all = node.app.io as unknown as {
      timeout(ms: number): { emitWithAck(e: string, n: number): Promise<number[]> };
    };
    expect(await all.timeout(3000).emitWithAck("ping?", 41)).toEqual([42]);
  });

  it("forgets a socket's token expiry when it disconnects", async () => {
    const node = await startNode();
    const client = await connected(node.url, { auth: { token: tokenFor(10) } });
    expect(node.app.pendingExpiries()).toBe(1);
    client.disconnect();
    await until(() => node.app.pendingExpiries() === 0, 3000, "expiry cancelled");
    expect(node.app.io.of("/").sockets.size).toBe(0);
  });
});
