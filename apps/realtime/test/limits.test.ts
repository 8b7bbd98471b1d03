import { client, connected, request, startNode, tokenFor, until } from "./helpers/node";

describe("limits and bad input on sockets", () => {
  it("refuses a subscription past MAX_SUBSCRIPTIONS", async () => {
    const node = await startNode({ MAX_SUBSCRIPTIONS: "3" });
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    for (const id of [1, 2, 3])
      expect(await request(socket, "subscribe", { thread_id: id })).toMatchObject({ ok: true });
    expect(await request(socket, "subscribe", { thread_id: 4 })).toEqual({ ok: false, error: "subscription_limit" });
    expect(await request(socket, "subscribe", { thread_id: 2 })).toMatchObject({ ok: true });
    await request(socket, "unsubscribe", { thread_id: 1 });
    expect(await request(socket, "subscribe", { thread_id: 4 })).toMatchObject({ ok: true });
  });

  it("answers bad payloads with invalid and keeps the socket", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    for (const payload of [
      null,
      42,
      "x",
      [],
      { thread_id: -1 },
      { thread_id: "a b" },
      { channel: "nodot" },
      { channel: "thread.\u202e7" },
      { thread_id: "7\u0000" },
    ]) {
      expect(await request(socket, "subscribe", payload)).toEqual({ ok: false, error: "invalid" });
    }
    expect(await request(socket, "presence:watch", { user_ids: "1" })).toEqual({ ok: false, error: "invalid" });
    expect(
      await request(socket, "presence:watch", { user_ids: Array.from({ length: 1001 }, (_, i) => i + 1) }),
    ).toEqual({
      ok: false,
      error: "invalid",
    });
    socket.emit("subscribe", { thread_id: 1 }); // no ack: must not crash the handler
    expect(await request(socket, "subscribe", { thread_id: 1 })).toMatchObject({ ok: true });
  });

  it("rate-limits client events per socket", async () => {
    const node = await startNode({ SOCKET_EVENT_RATE_LIMIT: "5" });
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(socket, "subscribe", { thread_id: i + 1 })),
    );
    const limited = answers.filter((a) => a.error === "rate_limited");
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(answers.filter((a) => a.ok).length).toBeGreaterThanOrEqual(10);
    expect(socket.connected).toBe(true);
  });

  it("disconnects a socket that sends a message over MAX_PAYLOAD_BYTES", async () => {
    const node = await startNode({ MAX_PAYLOAD_BYTES: "2048" });
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    const reasons: string[] = [];
    socket.on("disconnect", (reason) => reasons.push(reason));
    socket.emit("subscribe", { thread_id: 1, padding: "x".repeat(5000) });
    await until(() => reasons.length === 1);
    expect(reasons[0]).toMatch(/transport close|transport error/);
    await connected(node.url, { auth: { token: tokenFor(1) } });
  });

  it("cuts off a socket that stops reading once 1 MiB waits for it", async () => {
    const node = await startNode();
    const slow = client(node.url, { auth: { token: tokenFor(1) } });
    await new Promise<void>((resolve) => slow.once("connect", () => resolve()));
    const serverSocket = [...node.app.io.of("/").sockets.values()][0];
    // Stop reading: pause the client's TCP socket, so that unsent data piles up on the server.
    const engine = (slow.io.engine as unknown as { transport: { ws: { _socket: { pause(): void } } } }).transport;
    engine.ws._socket.pause();
    const big = { blob: "x".repeat(60_000) };
    for (let i = 0; i < 300 && !serverSocket.disconnected; i++) {
      await node.api("/api/broadcast", { body: { event: "big", to: "user", user_id: 1, data: big } });
    }
    await until(() => serverSocket.disconnected, 5000, "the slow consumer to be cut off");
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/realtime_disconnections_total\{reason="slow_consumer"\} 1/);
  });
});

describe("a flood of client events from many sockets of one user", () => {
  it("holds every socket to its own rate, and the node keeps answering", async () => {
    const rate = 10;
    const node = await startNode({ SOCKET_EVENT_RATE_LIMIT: String(rate), MAX_CONNECTIONS_PER_USER: "20" });
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => connected(node.url, { auth: { token: tokenFor(1) } })),
    );
    const started = Date.now();
    const answers = await Promise.all(
      sockets.map((socket) =>
        Promise.all(Array.from({ length: 100 }, (_, i) => request(socket, "thread:viewers", { thread_id: i + 1 }))),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;
    for (const perSocket of answers) {
      const ok = perSocket.filter((a) => a.ok).length;
      // A bucket of 2 × rate, refilled at `rate` per second while the flood lasted.
      expect(ok).toBeGreaterThanOrEqual(2 * rate);
      expect(ok).toBeLessThanOrEqual(2 * rate + Math.ceil(rate * elapsedS) + 1);
      expect(perSocket.filter((a) => !a.ok).every((a) => a.error === "rate_limited")).toBe(true);
    }
    expect(sockets.every((socket) => socket.connected)).toBe(true);
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
    // The user's 21st socket is refused: the cap bounds what one user can send per second.
    const refused = client(node.url, { auth: { token: tokenFor(1) } });
    const error = await new Promise<Error>((resolve) => refused.once("connect_error", resolve));
    expect(error.message).toBe("too_many_connections");
  });
});
