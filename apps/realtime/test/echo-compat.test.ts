import jwt from "jsonwebtoken";
import { createRedisState } from "../src/state/redis-state";
import { collect, echoClient, echoSocket, EchoClient } from "./helpers/echo";
import { startLaravelStub, StubCall } from "./helpers/laravel-stub";
import { connected, record, request, startNode, tokenFor, until, TestNode } from "./helpers/node";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";
import { startRedisCluster, TestRedisCluster } from "./helpers/redis-cluster";

/** Real laravel-echo 2.x clients against two real nodes sharing a real Redis (SPEC section 12). */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

/** Laravel's side: `Broadcast::channel()` callbacks behind `/broadcasting/auth`, users from the bearer JWT. */
function laravelAnswer(call: StubCall) {
  if (call.path === "/api/realtime/authorize")
    return { status: 200, body: { allowed: call.body.channel !== "thread.8" } };
  const token = String(call.headers.authorization ?? "").replace(/^Bearer /, "");
  const user = (jwt.decode(token) as { sub?: string } | null)?.sub;
  const channel = String(call.body.channel_name);
  if (!user) return { status: 401, body: { message: "Unauthenticated." } };
  if (channel === "private-orders.6") return { status: 403, body: { message: "" } };
  if (channel.startsWith("private-")) return { status: 200, body: true };
  if (channel.startsWith("presence-")) {
    return { status: 200, body: { channel_data: { user_id: Number(user), user_info: { name: `user ${user}` } } } };
  }
  return { status: 403, body: {} };
}

/** `redisEnv`: where the nodes keep their state, a single Redis unless a test says otherwise. */
async function cluster(
  env: Record<string, string> = {},
  redisEnv: Record<string, string> = { REDIS_URL: redis.url },
): Promise<{ nodes: TestNode[]; calls: StubCall[] }> {
  const laravel = await startLaravelStub(laravelAnswer);
  const prefix = uniquePrefix();
  const nodes: TestNode[] = [];
  for (const id of ["a", "b"]) {
    const node = await startNode(
      {
        ...redisEnv,
        REDIS_KEY_PREFIX: prefix,
        NODE_ID: id,
        CHANNEL_AUTH: "laravel",
        LARAVEL_API_URL: laravel.url,
        ...env,
      },
      (config) => createRedisState(config, { onError: () => undefined }),
    );
    nodes.push(node);
  }
  return { nodes, calls: laravel.calls };
}

/** Echo's subscribe has no ack: the node's own room table tells when it took effect. */
function joined(node: TestNode, echo: EchoClient, channel: string): Promise<void> {
  const id = echo.socketId();
  return until(
    () =>
      node.app.io
        .of("/")
        .adapter.rooms.get(channel)
        ?.has(id ?? "") === true,
    5000,
    `${channel}`,
  );
}

/** Echo presence across two nodes: here, joining once per user, leaving after the grace. */
async function announcesPresenceAcrossNodes(redisEnv?: Record<string, string>): Promise<void> {
  const { nodes } = await cluster({}, redisEnv);
  const [a, b] = nodes;
  const watcher = await echoClient(a.url, { token: tokenFor(1) });
  const here: unknown[][] = [];
  const joining = collect();
  const leaving = collect();
  watcher
    .join("chat.1")
    .here((members: unknown[]) => here.push(members))
    .joining(joining.push)
    .leaving(leaving.push);
  await until(() => here.length === 1);
  expect(here[0]).toEqual([{ name: "user 1" }]);

  // User 2 opens a tab on each node; user 3 one tab on node b.
  const tabs: Array<EchoClient> = [];
  for (const [node, user] of [
    [b, 2],
    [a, 2],
    [b, 3],
  ] as const) {
    const tab = await echoClient(node.url, { token: tokenFor(user) });
    const seen: unknown[][] = [];
    tab.join("chat.1").here((members: unknown[]) => seen.push(members));
    await until(() => seen.length === 1);
    tabs.push(tab);
  }
  await until(() => joining.got.length === 2);
  expect(joining.got).toEqual([{ name: "user 2" }, { name: "user 3" }]);

  tabs[0].disconnect(); // user 2 still has the tab on node a
  tabs[2].disconnect(); // user 3 is gone: leaving after the grace
  await until(() => leaving.got.length === 1);
  expect(leaving.got).toEqual([{ name: "user 3" }]);
  tabs[1].disconnect();
  await until(() => leaving.got.length === 2);
  expect(leaving.got).toEqual([{ name: "user 3" }, { name: "user 2" }]);
  expect(joining.got).toHaveLength(2);

  const late: unknown[][] = [];
  const newcomer = await echoClient(b.url, { token: tokenFor(4) });
  newcomer.join("chat.1").here((members: unknown[]) => late.push(members));
  await until(() => late.length === 1);
  expect(late[0]).toEqual(expect.arrayContaining([{ name: "user 1" }, { name: "user 4" }]));
  expect(late[0]).toHaveLength(2);
}

/** Members go out as {user_id, user_info}, never with a socket id. */
async function sendsMembersWithoutSocketIds(redisEnv?: Record<string, string>): Promise<void> {
  const { nodes } = await cluster({}, redisEnv);
  const first = await echoClient(nodes[0].url, { token: tokenFor(1) });
  const frames: unknown[][] = [];
  echoSocket(first).onAny((...args: unknown[]) => frames.push(args));
  first.join("chat.2");
  await until(() => frames.length === 1);
  const second = await echoClient(nodes[1].url, { token: tokenFor(2) });
  second.join("chat.2");
  await until(() => frames.length === 2);
  expect(frames).toEqual([
    ["presence:subscribed", "presence-chat.2", [{ user_id: 1, user_info: { name: "user 1" } }]],
    ["presence:joining", "presence-chat.2", { user_id: 2, user_info: { name: "user 2" } }],
  ]);
  expect(JSON.stringify(frames)).not.toContain(second.socketId());
}

const broadcast = (node: TestNode, channel: string, event: string, data: object, headers = {}) =>
  node.api("/api/broadcast", { body: { event, to: "channel", channel, data }, headers });

describe("Laravel Echo (laravel-echo 2.x, socket.io-client 4) against two nodes", () => {
  it("delivers a broadcast on a public channel to an Echo client on each node exactly once, by Laravel's event name", async () => {
    const { nodes } = await cluster();
    const [a, b] = nodes;
    const echoA = await echoClient(a.url, { token: tokenFor(1) });
    const echoB = await echoClient(b.url, { token: tokenFor(2) });
    const [onA, onB] = [collect(), collect()];
    echoA.channel("news").listen("OrderShipped", onA.push).listen(".done", onA.push);
    echoB.channel("news").listen("OrderShipped", onB.push).listen(".done", onB.push);
    await Promise.all([joined(a, echoA, "news"), joined(b, echoB, "news")]);

    const answer = await broadcast(a, "news", "App\\Events\\OrderShipped", { order: 5 });
    expect(answer.status).toBe(200);
    await broadcast(b, "news", "done", { last: true });
    await until(() => onA.got.length === 2 && onB.got.length === 2);
    for (const { got } of [onA, onB]) expect(got).toEqual([{ order: 5 }, { last: true }]);
  });

  it("sends Echo sockets (channel, data) and our own sockets (data, meta) for the same broadcast", async () => {
    const { nodes } = await cluster();
    const [a] = nodes;
    const echo = await echoClient(a.url, { token: tokenFor(1) });
    const frames: unknown[][] = [];
    echoSocket(echo).onAny((...args: unknown[]) => frames.push(args));
    echo.channel("thread.7");
    await joined(a, echo, "thread.7");
    const ours = await connected(a.url, { auth: { token: tokenFor(2) } });
    await request(ours, "subscribe", { thread_id: 7 });
    const seen = record(ours);

    await a.api("/api/broadcast", { body: { event: "new_reply", to: "thread", thread_id: 7, data: { id: 1 } } });
    await until(() => frames.length === 1 && seen.length === 1);
    expect(frames[0]).toEqual(["new_reply", "thread.7", { id: 1 }]);
    expect(seen[0]).toMatchObject({ event: "new_reply", data: { id: 1 }, meta: { channel: "thread.7" } });
  });

  it("skips the sender's socket on every node for a broadcast with X-Socket-ID (toOthers), and only it", async () => {
    const { nodes } = await cluster();
    const [a, b] = nodes;
    const sender = await echoClient(a.url, { token: tokenFor(1) });
    const sameNode = await echoClient(a.url, { token: tokenFor(2) });
    const otherNode = await echoClient(b.url, { token: tokenFor(3) });
    const got = [collect(), collect(), collect()];
    [sender, sameNode, otherNode].forEach((echo, i) => echo.channel("news").listen(".e", got[i].push));
    await Promise.all([joined(a, sender, "news"), joined(a, sameNode, "news"), joined(b, otherNode, "news")]);

    const answer = await broadcast(b, "news", "e", { n: 1 }, { "X-Socket-ID": sender.socketId()! });
    expect(answer.status).toBe(200);
    await broadcast(a, "news", "e", { n: 2 });
    await until(() => got.every((c) => c.got.some((data) => data.n === 2)));
    expect(got.map((c) => c.got)).toEqual([[{ n: 2 }], [{ n: 1 }, { n: 2 }], [{ n: 1 }, { n: 2 }]]);
  });

  it("authorizes a private channel through /broadcasting/auth with the form body, the client's auth headers and its Cookie", async () => {
    const { nodes, calls } = await cluster();
    const [a, b] = nodes;
    const token = tokenFor(5);
    const echo = await echoClient(b.url, { token, cookie: "laravel_session=s3ss10n", csrfToken: "csrf-123" });
    const orders = collect();
    echo.private("orders.5").listen(".OrderPaid", orders.push);
    await joined(b, echo, "private-orders.5");

    const auth = calls.find((call) => call.path === "/broadcasting/auth");
    expect(auth?.body).toEqual({ channel_name: "private-orders.5", socket_id: echo.socketId() });
    expect(auth?.headers).toMatchObject({
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Bearer ${token}`,
      "x-csrf-token": "csrf-123",
      cookie: "laravel_session=s3ss10n",
    });
    await broadcast(a, "private-orders.5", "OrderPaid", { total: 9.5 });
    await until(() => orders.got.length === 1);
    expect(orders.got).toEqual([{ total: 9.5 }]);
  });

  it("refuses a channel Laravel forbids with subscription_error 403 and never delivers its events", async () => {
    const { nodes } = await cluster();
    const [a, b] = nodes;
    const echo = await echoClient(a.url, { token: tokenFor(5) });
    const errors: unknown[][] = [];
    echoSocket(echo).on("subscription_error", (...args: unknown[]) => errors.push(args));
    const forbidden = collect();
    const allowed = collect();
    echo.private("orders.6").listen(".OrderPaid", forbidden.push);
    echo.private("orders.5").listen(".OrderPaid", allowed.push);
    await until(() => errors.length === 1);
    expect(errors).toEqual([["private-orders.6", 403]]);
    await joined(a, echo, "private-orders.5");

    await broadcast(b, "private-orders.6", "OrderPaid", { secret: true });
    await broadcast(b, "private-orders.5", "OrderPaid", { mine: true });
    await until(() => allowed.got.length === 1);
    expect(forbidden.got).toEqual([]);
    expect(a.app.io.of("/").adapter.rooms.get("private-orders.6")).toBeUndefined();
  });

  it("keeps Laravel's public channels public, and our own rules for names of our grammar", async () => {
    const { nodes, calls } = await cluster();
    const echo = await echoClient(nodes[0].url, { token: tokenFor(5) });
    const errors: unknown[][] = [];
    echoSocket(echo).on("subscription_error", (...args: unknown[]) => errors.push(args));
    echo.channel("news");
    echo.channel("thread.8");
    echo.channel("user.6");
    echo.channel("thread.7");
    await joined(nodes[0], echo, "thread.7");
    await until(() => errors.length === 2);
    // user.6 is refused at once, thread.8 after Laravel's answer.
    expect(errors).toEqual(
      expect.arrayContaining([
        ["thread.8", 403],
        ["user.6", 403],
      ]),
    );
    expect(nodes[0].app.io.of("/").adapter.rooms.get("news")?.has(echo.socketId()!)).toBe(true);
    const asked = calls.filter((call) => call.path === "/api/realtime/authorize").map((call) => call.body.channel);
    expect(asked.sort()).toEqual(["thread.7", "thread.8"]);
  });

  it("refuses private and presence channels to a guest, and to everyone without CHANNEL_AUTH=laravel", async () => {
    const { nodes } = await cluster({ ALLOW_GUESTS: "true" });
    const guest = await echoClient(nodes[0].url);
    const errors: unknown[][] = [];
    echoSocket(guest).on("subscription_error", (...args: unknown[]) => errors.push(args));
    guest.private("orders.5");
    guest.join("chat.1");
    await until(() => errors.length === 2);
    expect(errors).toEqual([
      ["private-orders.5", 403],
      ["presence-chat.1", 403],
    ]);

    const open = await startNode({ CHANNEL_AUTH: "none" });
    const user = await echoClient(open.url, { token: tokenFor(1) });
    const refused: unknown[][] = [];
    echoSocket(user).on("subscription_error", (...args: unknown[]) => refused.push(args));
    user.private("orders.5");
    await until(() => refused.length === 1);
    expect(refused).toEqual([["private-orders.5", 403]]);
  });

  it("announces presence once per user across nodes: here, joining, then leaving after the grace, not for a second tab", () =>
    announcesPresenceAcrossNodes());

  it("sends members as {user_id, user_info}, never anyone's socket id", () => sendsMembersWithoutSocketIds());

  it("relays whispers to the other members on both nodes, never to the sender, only on channels the sender joined", async () => {
    const { nodes } = await cluster();
    const [a, b] = nodes;
    const sender = await echoClient(a.url, { token: tokenFor(1) });
    const sameNode = await echoClient(a.url, { token: tokenFor(2) });
    const otherNode = await echoClient(b.url, { token: tokenFor(3) });
    const outsider = await echoClient(b.url, { token: tokenFor(4) });
    const got = [collect(), collect(), collect(), collect()];
    [sender, sameNode, otherNode].forEach((echo, i) =>
      echo.private("orders.5").listenForWhisper("typing", got[i].push),
    );
    outsider.private("orders.9").listenForWhisper("typing", got[3].push);
    outsider.channel("news").listenForWhisper("typing", got[3].push);
    await Promise.all([
      joined(a, sender, "private-orders.5"),
      joined(a, sameNode, "private-orders.5"),
      joined(b, otherNode, "private-orders.5"),
      joined(b, outsider, "news"),
    ]);

    // Not joined, public channel, not a client- event: all dropped.
    echoSocket(outsider).emit("client event", { channel: "private-orders.5", event: "client-typing", data: { x: 1 } });
    echoSocket(outsider).emit("client event", { channel: "news", event: "client-typing", data: { x: 2 } });
    echoSocket(sender).emit("client event", { channel: "private-orders.5", event: "OrderPaid", data: { x: 3 } });
    sender.private("orders.5").whisper("typing", { who: 1 });
    await until(() => got[1].got.length === 1 && got[2].got.length === 1);
    await broadcast(b, "private-orders.5", "client-typing", { marker: true });
    await until(() => got[0].got.length === 1 && got[1].got.length === 2);
    expect(got.map((c) => c.got)).toEqual([
      [{ marker: true }],
      [{ who: 1 }, { marker: true }],
      [{ who: 1 }, { marker: true }],
      [],
    ]);
  });

  it("rate-limits whispers per socket", async () => {
    const { nodes } = await cluster({ SOCKET_EVENT_RATE_LIMIT: "2" });
    const [a, b] = nodes;
    const sender = await echoClient(a.url, { token: tokenFor(1) });
    const receiver = await echoClient(b.url, { token: tokenFor(2) });
    const got = collect();
    sender.private("orders.5");
    receiver.private("orders.5").listenForWhisper("typing", got.push);
    await Promise.all([joined(a, sender, "private-orders.5"), joined(b, receiver, "private-orders.5")]);
    // The subscribe spent one token of the burst of 4; 20 whispers in one go leave 3 through.
    for (let i = 0; i < 20; i++) sender.private("orders.5").whisper("typing", { i });
    await until(() => got.got.length >= 3);
    await broadcast(a, "private-orders.5", "client-typing", { marker: true });
    await until(() => got.got.some((data) => data.marker));
    expect(got.got).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { marker: true }]);
  });

  it("asks Laravel once per user and channel within a minute, and takes a re-subscribe as a no-op", async () => {
    const { nodes, calls } = await cluster();
    const [a, b] = nodes;
    const watcher = await echoClient(b.url, { token: tokenFor(1) });
    const joining = collect();
    const here: unknown[][] = [];
    watcher.join("chat.3").joining(joining.push);
    const tab = await echoClient(a.url, { token: tokenFor(2) });
    tab.join("chat.3").here((members: unknown[]) => here.push(members));
    await until(() => here.length === 1 && joining.got.length === 1);
    // Echo subscribes again after a reconnect; the same socket asking again changes nothing.
    echoSocket(tab).emit("subscribe", { channel: "presence-chat.3", auth: { headers: {} } });
    await until(() => here.length === 2);
    const again = await echoClient(a.url, { token: tokenFor(2) });
    again.join("chat.3").here((members: unknown[]) => here.push(members));
    await until(() => here.length === 3);
    expect(joining.got).toEqual([{ name: "user 2" }]);
    expect(here[2]).toHaveLength(2);
    const asked = calls.filter(
      (call) => call.path === "/broadcasting/auth" && call.body.channel_name === "presence-chat.3",
    );
    // User 1 once; user 2 once for both its sockets (on the same node: the cache is per node).
    expect(asked.map((call) => jwt.decode(String(call.headers.authorization).slice(7))?.sub)).toEqual([1, 2]);
  });

  it("comes back by itself after its transport was closed, re-subscribed by Echo, without a leave and join", async () => {
    const { nodes } = await cluster();
    const [a] = nodes;
    const watcher = await echoClient(a.url, { token: tokenFor(1) });
    const joining = collect();
    const leaving = collect();
    watcher.join("chat.4").joining(joining.push).leaving(leaving.push);
    const echo = await echoClient(a.url, { token: tokenFor(2), reconnection: true });
    const news = collect();
    echo.channel("news").listen(".e", news.push);
    echo.join("chat.4");
    await until(() => joining.got.length === 1);
    await joined(a, echo, "news");

    const before = echo.socketId();
    a.app.io.of("/").sockets.get(before!)?.conn.close(); // what a draining node does
    await until(() => echo.socketId() !== undefined && echo.socketId() !== before, 5000, "reconnect");
    await joined(a, echo, "news");
    await joined(a, echo, "presence-chat.4");
    await broadcast(a, "news", "e", { after: true });
    await until(() => news.got.length === 1);
    expect(news.got).toEqual([{ after: true }]);
    // User 3 comes and goes after the reconnect: its leave is due after any of user 2's would be.
    const other = await echoClient(a.url, { token: tokenFor(3) });
    other.join("chat.4");
    await until(() => joining.got.length === 2);
    other.disconnect();
    await until(() => leaving.got.length === 1);
    expect(leaving.got).toEqual([{ name: "user 3" }]);
    expect(joining.got).toEqual([{ name: "user 2" }, { name: "user 3" }]);
  });

  it("takes Echo's subscribe as one of our own with ECHO_COMPAT=false: no Laravel names, no Echo framing", async () => {
    const node = await startNode({ ECHO_COMPAT: "false" });
    const echo = await echoClient(node.url, { token: tokenFor(1) });
    const viaEcho = collect();
    const frames: unknown[][] = [];
    echoSocket(echo).onAny((...args: unknown[]) => frames.push(args));
    echo.channel("news").listen(".e", viaEcho.push);
    echo.channel("thread.7").listen(".e", viaEcho.push);
    await joined(node, echo, "thread.7");
    expect(node.app.io.of("/").adapter.rooms.get("news")).toBeUndefined();

    await node.api("/api/broadcast", { body: { event: "e", to: "thread", thread_id: 7, data: { n: 1 } } });
    await until(() => frames.length === 1);
    expect(frames[0]).toEqual(["e", { n: 1 }, expect.objectContaining({ channel: "thread.7" })]);
    expect(viaEcho.got).toEqual([]);
  });
});

/** The presence-channel scenarios again, the nodes on REDIS_CLUSTER_NODES alone (3 masters + 3 replicas). */
describe("Laravel Echo presence channels with the nodes on a Redis Cluster", () => {
  let redisCluster: TestRedisCluster;
  beforeAll(async () => {
    redisCluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => redisCluster.stop());
  const onCluster = () => ({ REDIS_CLUSTER_NODES: redisCluster.nodes.join(",") });

  it("announces presence once per user across nodes: here, joining, then leaving after the grace, not for a second tab", () =>
    announcesPresenceAcrossNodes(onCluster()));

  it("sends members as {user_id, user_info}, never anyone's socket id", () =>
    sendsMembersWithoutSocketIds(onCluster()));
});
