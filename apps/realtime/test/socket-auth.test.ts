import jwt from "jsonwebtoken";
import { JWT_SECRET, client, connectError, connected, request, startNode, tokenFor, until } from "./helpers/node";
import { ManualTime } from "./helpers/manual-time";

const unsigned = (payload: object): string =>
  `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.`;

describe("Socket.IO authentication", () => {
  it("connects with auth.token and puts the socket in user.{sub}", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(42) } });
    const got = new Promise((resolve) => socket.on("notification", (data, meta) => resolve({ data, meta })));
    await node.api("/api/broadcast", { body: { event: "notification", to: "user", user_id: 42, data: { n: 1 } } });
    expect(await got).toMatchObject({ data: { n: 1 }, meta: { channel: "user.42" } });
  });

  it("accepts a numeric sub, Laravel Echo's auth.headers.Authorization and the Authorization header", async () => {
    const node = await startNode();
    const token = jwt.sign({ sub: 7 }, JWT_SECRET, { algorithm: "HS256", expiresIn: 60 });
    await connected(node.url, { auth: { headers: { Authorization: `Bearer ${token}` } } });
    await connected(node.url, { transports: ["polling"], extraHeaders: { Authorization: `Bearer ${token}` } });
    await connected(node.url, { auth: { token: `Bearer ${token}` } });
  });

  it.each([
    ["token_missing", {}],
    ["token_invalid", { auth: { token: "not.a.jwt" } }],
    ["token_invalid", { auth: { token: tokenFor(1, {}, "a-different-secret-of-enough-length-000") } }],
    ["token_invalid", { auth: { token: jwt.sign({ sub: "1" }, JWT_SECRET, { algorithm: "HS512", expiresIn: 60 }) } }],
    ["token_invalid", { auth: { token: unsigned({ sub: "1", exp: Math.floor(Date.now() / 1000) + 60 }) } }],
    ["token_invalid", { auth: { token: jwt.sign({ sub: "1" }, JWT_SECRET, { algorithm: "HS256" }) } }],
    ["token_invalid", { auth: { token: jwt.sign({ exp: Math.floor(Date.now() / 1000) + 60 }, JWT_SECRET) } }],
    ["token_invalid", { auth: { token: tokenFor(1, { notBefore: 120 }) } }],
    ["token_expired", { auth: { token: tokenFor(1, { expiresIn: -60 }) } }],
  ])("refuses with %s: %j", async (code, options) => {
    const node = await startNode();
    const error = await connectError(node.url, options);
    expect(error.message).toBe("unauthorized");
    expect(error.data?.code).toBe(code);
    await connected(node.url, { auth: { token: tokenFor(1) } });
  });

  it("accepts a token expired less than 30 s ago (clock tolerance)", async () => {
    const node = await startNode();
    await connected(node.url, { auth: { token: tokenFor(1, { expiresIn: -10 }) } });
  });

  it("checks JWT_ISSUER and JWT_AUDIENCE when set", async () => {
    const node = await startNode({ JWT_ISSUER: "https://forum.example/api/auth/login", JWT_AUDIENCE: "realtime" });
    const good = tokenFor(1, { issuer: "https://forum.example/api/auth/login", audience: "realtime" });
    await connected(node.url, { auth: { token: good } });
    expect(
      (await connectError(node.url, { auth: { token: tokenFor(1, { issuer: "https://evil", audience: "realtime" }) } }))
        .data?.code,
    ).toBe("token_invalid");
    expect((await connectError(node.url, { auth: { token: tokenFor(1) } })).data?.code).toBe("token_invalid");
  });

  it("takes ?token= only with ALLOW_QUERY_TOKEN=true", async () => {
    const strict = await startNode();
    expect((await connectError(strict.url, { query: { token: tokenFor(3) } })).data?.code).toBe("token_missing");
    const legacy = await startNode({ ALLOW_QUERY_TOKEN: "true" });
    await connected(legacy.url, { query: { token: tokenFor(3) } });
  });

  it("lets guests in with ALLOW_GUESTS=true, into public channels only, and never downgrades a bad token", async () => {
    const node = await startNode({ ALLOW_GUESTS: "true" });
    const guest = await connected(node.url);
    expect(await request(guest, "subscribe", { thread_id: 7 })).toMatchObject({ ok: true, channel: "thread.7" });
    expect(await request(guest, "subscribe", { channel: "user.1" })).toEqual({ ok: false, error: "forbidden" });
    expect(await request(guest, "presence:watch", { user_ids: [1] })).toEqual({ ok: false, error: "forbidden" });
    expect((await connectError(node.url, { auth: { token: "garbage" } })).data?.code).toBe("token_invalid");
  });

  it("sends token_expired and disconnects when the token runs out, unless auth:refresh came first", async () => {
    const time = new ManualTime();
    const node = await startNode({}, undefined, time);
    const expiring = await connected(node.url, { auth: { token: tokenFor(5, { expiresIn: 60 }) } });
    const refreshed = await connected(node.url, { auth: { token: tokenFor(5, { expiresIn: 60 }) } });
    expect(await request(refreshed, "auth:refresh", { token: tokenFor(5, { expiresIn: 3600 }) })).toEqual({ ok: true });
    expect(await request(refreshed, "auth:refresh", { token: tokenFor(6) })).toEqual({ ok: false, error: "forbidden" });
    expect(await request(refreshed, "auth:refresh", { token: "junk" })).toEqual({ ok: false, error: "invalid" });
    expect(node.app.pendingExpiries()).toBe(2);
    const events: string[] = [];
    expiring.on("token_expired", () => events.push("token_expired"));
    expiring.on("disconnect", (reason) => events.push(reason));

    // exp is in whole seconds from the real time the token was signed: 55 s is safely before it.
    await time.advance(55_000);
    expect(await request(expiring, "subscribe", { thread_id: 1 })).toMatchObject({ ok: true });
    expect(events).toEqual([]);

    await time.advance(10_000);
    await until(() => events.length === 2, 5000, "expiry");
    expect(events).toEqual(["token_expired", "io server disconnect"]);
    expect(refreshed.connected).toBe(true);
    expect(node.app.pendingExpiries()).toBe(1);

    const gone = new Promise((resolve) => refreshed.once("token_expired", resolve));
    await time.advance(3600_000);
    expect(await gone).toEqual({ code: "token_expired" });
  });

  it("counts refused handshakes by kind in /metrics", async () => {
    const node = await startNode();
    await connectError(node.url, { auth: { token: "x.y.z" } });
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/realtime_auth_failures_total\{kind="token_invalid"\} 1/);
  });

  it("refuses new sockets while draining", async () => {
    const node = await startNode();
    const stopping = node.stop();
    const socket = client(node.url, { auth: { token: tokenFor(1) } });
    const outcome = await new Promise((resolve) => {
      socket.once("connect", () => resolve("connected"));
      socket.once("connect_error", (error) => resolve(error.message));
    });
    expect(outcome).not.toBe("connected");
    await stopping;
  });
});
