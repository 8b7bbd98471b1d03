import { connected, record, request, startNode, tokenFor, until, json } from "./helpers/node";

describe("broadcast delivery", () => {
  it("delivers the seed's three calls as (data, meta), data unchanged", async () => {
    const node = await startNode();
    const user = await connected(node.url, { auth: { token: tokenFor(42) } });
    const viewer = await connected(node.url, { auth: { token: tokenFor(9) } });
    expect(await request(viewer, "subscribe", { thread_id: 7 })).toEqual({
      ok: true,
      channel: "thread.7",
      recovered: false,
    });
    const toUser = record(user);
    const toThread = record(viewer);
    const notification = {
      id: "notif_1",
      title: "New reply",
      data: { thread_id: 7, user: { id: 2, avatar: null } },
      read: false,
    };
    const answers = [
      await node.api("/api/broadcast", {
        body: { event: "notification", to: "user", user_id: 42, data: notification },
      }),
      await node.api("/api/broadcast", {
        body: { event: "thread_updated", to: "thread", thread_id: 7, data: { title: "t" } },
      }),
      await node.api("/api/broadcast", {
        body: { event: "new_reply", to: "thread", thread_id: "7", data: { reply_id: 1 } },
      }),
    ];
    const bodies = await Promise.all(answers.map((answer) => json(answer)));
    expect(bodies).toEqual([
      { success: true, id: expect.any(String), channel: "user.42", offset: expect.any(String) },
      { success: true, id: expect.any(String), channel: "thread.7", offset: expect.any(String) },
      { success: true, id: expect.any(String), channel: "thread.7", offset: expect.any(String) },
    ]);
    await until(() => toUser.length === 1 && toThread.length === 2);
    expect(toUser[0]).toEqual({
      event: "notification",
      data: notification,
      meta: { id: bodies[0].id, channel: "user.42", offset: bodies[0].offset, ts: expect.any(Number) },
    });
    expect(toThread.map((e) => [e.event, e.data, e.meta?.offset])).toEqual([
      ["thread_updated", { title: "t" }, bodies[1].offset],
      ["new_reply", { reply_id: 1 }, bodies[2].offset],
    ]);
  });

  it("keeps offsets increasing per channel", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(socket);
    for (let i = 0; i < 5; i++)
      await node.api("/api/broadcast", { body: { event: "n", to: "user", user_id: 1, data: { i } } });
    await until(() => got.length === 5);
    const offsets = got.map((e) => Number(e.meta?.offset.split("-")[1]));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(5);
    expect(got.map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it("sends to many users, to everyone and to a named channel", async () => {
    const node = await startNode();
    const [a, b, c] = await Promise.all([1, 2, 3].map((id) => connected(node.url, { auth: { token: tokenFor(id) } })));
    expect(await request(c, "subscribe", { channel: "forum.3" })).toMatchObject({ ok: true, channel: "forum.3" });
    const [ga, gb, gc] = [record(a), record(b), record(c)];
    const many = await json(
      node.api("/api/broadcast", { body: { event: "m", to: "users", user_ids: [1, "2", 2], data: {} } }),
    );
    expect(many).toEqual({ success: true, id: expect.any(String), channels: 2 });
    await node.api("/api/broadcast", { body: { event: "everyone", to: "all", data: { x: 1 } } });
    await node.api("/api/broadcast", { body: { event: "forum", to: "channel", channel: "forum.3", data: {} } });
    await until(() => ga.length === 2 && gb.length === 2 && gc.length === 2);
    expect(ga.map((e) => e.event)).toEqual(["m", "everyone"]);
    expect(gb.map((e) => e.event)).toEqual(["m", "everyone"]);
    expect(gc.map((e) => e.event)).toEqual(["everyone", "forum"]);
    expect(gc[0].meta?.channel).toBe("all");
  });

  it("delivers an id or Idempotency-Key once, answering repeats with duplicate:true", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(socket);
    const body = { event: "n", to: "user", user_id: 1, data: {}, id: "order-77" };
    const answers = await Promise.all(Array.from({ length: 10 }, () => node.api("/api/broadcast", { body })));
    const results = await Promise.all(answers.map((a) => json(a)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(results.filter((r) => r.duplicate === true)).toHaveLength(9);
    const viaHeader = { event: "n", to: "user", user_id: 1, data: {} };
    await node.api("/api/broadcast", { body: viaHeader, headers: { "Idempotency-Key": "k-1" } });
    const repeat = await json(node.api("/api/broadcast", { body: viaHeader, headers: { "Idempotency-Key": "k-1" } }));
    expect(repeat).toMatchObject({ success: true, duplicate: true, id: "k-1", channel: "user.1" });
    await node.api("/api/broadcast", { body: { ...viaHeader, data: { last: true } } });
    await until(() => got.some((e) => e.data.last));
    expect(got.map((e) => e.meta?.id)).toEqual(["order-77", "k-1", expect.any(String)]);
  });

  it("sends a batch in order and answers one result per item", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(4) } });
    const got = record(socket);
    const broadcasts = [0, 1, 2].map((i) => ({ event: "b", to: "user", user_id: 4, data: { i } }));
    const answer = await json(node.api("/api/broadcast/batch", { body: { broadcasts } }));
    expect(answer.results).toHaveLength(3);
    expect(answer.results.every((r: { success: boolean }) => r.success)).toBe(true);
    await until(() => got.length === 3);
    expect(got.map((e) => e.data.i)).toEqual([0, 1, 2]);
  });

  it("does not deliver a user's channel to anyone else, nor a channel not subscribed", async () => {
    const node = await startNode();
    const other = await connected(node.url, { auth: { token: tokenFor(2) } });
    expect(await request(other, "subscribe", { channel: "user.1" })).toEqual({ ok: false, error: "forbidden" });
    const got = record(other);
    await node.api("/api/broadcast", { body: { event: "secret", to: "user", user_id: 1, data: {} } });
    await node.api("/api/broadcast", { body: { event: "t", to: "thread", thread_id: 8, data: {} } });
    await node.api("/api/broadcast", { body: { event: "mine", to: "user", user_id: 2, data: {} } });
    await until(() => got.length >= 1);
    expect(got.map((e) => e.event)).toEqual(["mine"]);
  });

  it("stops delivering after unsubscribe", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(2) } });
    await request(socket, "subscribe", { thread_id: 8 });
    expect(await request(socket, "unsubscribe", { thread_id: 8 })).toEqual({ ok: true });
    const got = record(socket);
    await node.api("/api/broadcast", { body: { event: "t", to: "thread", thread_id: 8, data: {} } });
    await node.api("/api/broadcast", { body: { event: "mine", to: "user", user_id: 2, data: {} } });
    await until(() => got.length >= 1);
    expect(got.map((e) => e.event)).toEqual(["mine"]);
  });
});
