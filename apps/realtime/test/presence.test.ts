import {
  API_KEY,
  connected,
  record,
  request,
  startNode,
  tokenFor,
  until,
  json,
  flushEvents,
  type Received,
  type TestNode,
} from "./helpers/node";
import { ManualTime } from "./helpers/manual-time";
import { startLaravelStub } from "./helpers/laravel-stub";

const GRACE_MS = 200;

describe("presence", () => {
  /** The sockets the node counts for a user, once its connect/disconnect has gone through. */
  const connections = async (node: TestNode, userId: number): Promise<number> =>
    (await json(node.api(`/api/presence/users/${userId}`))).connections;

  const flush = (node: TestNode, events: Received[], userId: number) =>
    flushEvents(node, { to: "user", user_id: userId }, events);
  const presenceEvents = (events: Received[]) => events.map((e) => e.event);

  it("emits one user_online for two tabs, nothing when one closes, one user_offline when the grace runs out", async () => {
    const time = new ManualTime();
    const node = await startNode({ PRESENCE_GRACE_MS: String(GRACE_MS) }, undefined, time);
    const watcher = await connected(node.url, { auth: { token: tokenFor(1) } });
    expect(await request(watcher, "presence:watch", { user_ids: [42] })).toEqual({ ok: true, online: [] });
    const events = record(watcher);

    const tab1 = await connected(node.url, { auth: { token: tokenFor(42) } });
    const tab2 = await connected(node.url, { auth: { token: tokenFor(42) } });
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ event: "user_online", data: { user_id: "42", at: expect.any(String) } });

    tab1.disconnect();
    await until(async () => (await connections(node, 42)) === 1, 5000, "tab 1 gone");
    await time.advance(GRACE_MS * 3);
    await flush(node, events, 1);
    expect(presenceEvents(events)).toEqual(["user_online"]);

    tab2.disconnect();
    await until(async () => (await connections(node, 42)) === 0, 5000, "tab 2 gone");
    await time.advance(GRACE_MS - 1);
    await flush(node, events, 1);
    expect(presenceEvents(events)).toEqual(["user_online"]);

    // The sweeper runs every GRACE_MS / 4: the user is offline by the first sweep past the grace.
    await time.advance(GRACE_MS / 4);
    await until(() => presenceEvents(events).length === 2, 5000, "user_offline");
    expect(events.find((e) => e.event === "user_offline")).toMatchObject({ data: { user_id: "42" } });
    await time.advance(GRACE_MS * 2);
    await flush(node, events, 1);
    expect(presenceEvents(events)).toEqual(["user_online", "user_offline"]);
  });

  it("makes no event for a reconnect inside the grace (a page reload)", async () => {
    const time = new ManualTime();
    const node = await startNode({ PRESENCE_GRACE_MS: String(GRACE_MS) }, undefined, time);
    const watcher = await connected(node.url, { auth: { token: tokenFor(1) } });
    await request(watcher, "presence:watch", { user_ids: [42] });
    const events = record(watcher);
    const tab = await connected(node.url, { auth: { token: tokenFor(42) } });
    await until(() => events.length === 1);
    tab.disconnect();
    await until(async () => (await connections(node, 42)) === 0, 5000, "the tab gone");
    await time.advance(GRACE_MS / 2);
    await connected(node.url, { auth: { token: tokenFor(42) } });
    await until(async () => (await connections(node, 42)) === 1, 5000, "the tab back");
    await time.advance(GRACE_MS * 2);
    await flush(node, events, 1);
    expect(presenceEvents(events)).toEqual(["user_online"]);
  });

  it("answers the presence queries and the online list with a cursor", async () => {
    const node = await startNode();
    await connected(node.url, { auth: { token: tokenFor(5) } });
    await connected(node.url, { auth: { token: tokenFor(5) } });
    await connected(node.url, { auth: { token: tokenFor(6) } });
    await until(async () => (await connections(node, 5)) === 2 && (await connections(node, 6)) === 1);
    const one = await json(node.api("/api/presence/users/5"));
    expect(one).toEqual({ user_id: "5", online: true, connections: 2, last_seen: expect.any(String) });
    const many = await json(node.api("/api/presence/users?ids=5,6,7"));
    expect(many).toEqual({
      users: {
        "5": { online: true, connections: 2 },
        "6": { online: true, connections: 1 },
        "7": { online: false, connections: 0 },
      },
    });
    const page1 = await json(node.api("/api/presence/online?limit=1"));
    expect(page1).toEqual({ count: 2, user_ids: ["5"], next_cursor: "5" });
    const page2 = await json(node.api(`/api/presence/online?limit=1&cursor=${page1.next_cursor}`));
    expect(page2).toEqual({ count: 2, user_ids: ["6"], next_cursor: null });
    expect((await node.api("/api/presence/online?limit=0")).status).toBe(422);
    expect((await node.api("/api/presence/users?ids=")).status).toBe(422);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^realtime_online_users 2$/m);
  });

  it("lists a thread's viewers over the API and to sockets", async () => {
    const node = await startNode();
    const a = await connected(node.url, { auth: { token: tokenFor(10) } });
    const b = await connected(node.url, { auth: { token: tokenFor(11) } });
    const b2 = await connected(node.url, { auth: { token: tokenFor(11) } });
    for (const s of [a, b, b2]) await request(s, "subscribe", { thread_id: 7 });
    expect(await json(node.api("/api/threads/7/viewers"))).toEqual({
      thread_id: "7",
      count: 2,
      user_ids: ["10", "11"],
    });
    expect(await request(a, "thread:viewers", { thread_id: 7 })).toEqual({
      ok: true,
      count: 2,
      user_ids: ["10", "11"],
    });
    expect(await request(a, "thread:viewers", { channel: "forum.1" })).toEqual({ ok: false, error: "invalid" });
  });

  it("kicks every socket of a user: they see io server disconnect", async () => {
    const node = await startNode();
    const s1 = await connected(node.url, { auth: { token: tokenFor(8) } });
    const s2 = await connected(node.url, { auth: { token: tokenFor(8) }, transports: ["polling"] });
    const other = await connected(node.url, { auth: { token: tokenFor(9) } });
    const reasons: string[] = [];
    for (const s of [s1, s2]) s.on("disconnect", (reason) => reasons.push(reason));
    expect(await json(node.api("/api/users/8/disconnect", { method: "POST" }))).toEqual({
      success: true,
      user_id: "8",
    });
    await until(() => reasons.length === 2);
    expect(reasons).toEqual(["io server disconnect", "io server disconnect"]);
    expect(other.connected).toBe(true);
  });

  it("posts each transition to Laravel with the API key, retrying failures", async () => {
    let failuresLeft = 2;
    const laravel = await startLaravelStub(() =>
      failuresLeft-- > 0 ? { status: 503 } : { status: 200, body: { ok: true } },
    );
    const node = await startNode({ LARAVEL_API_URL: laravel.url, PRESENCE_GRACE_MS: String(GRACE_MS) });
    const tab = await connected(node.url, { auth: { token: tokenFor(77) } });
    await until(() => laravel.calls.length === 3, 5000, "webhook retries");
    tab.disconnect();
    await until(() => laravel.calls.length === 4, 5000, "offline webhook");
    const [first, , third, fourth] = laravel.calls;
    expect(first.path).toBe("/api/realtime/presence");
    expect(first.headers["x-websocket-api-key"]).toBe(API_KEY);
    expect(first.body).toEqual({ id: expect.any(String), event: "user_online", user_id: "77", at: expect.any(String) });
    expect(third.body.id).toBe(first.body.id);
    expect(fourth.body).toMatchObject({ event: "user_offline", user_id: "77" });
    // The stub sees a call before the node has read its answer: the count follows the answer.
    const sentTwice = async () =>
      /realtime_presence_webhooks_total\{outcome="sent"\} 2/.test(await (await fetch(`${node.url}/metrics`)).text());
    await until(sentTwice, 5000, "both webhooks counted as sent");
  });
});
