import { client, connected, record, request, startNode, tokenFor, until } from "./helpers/node";
import { createEmbeddedState } from "../src/state/embedded-state";
import { systemClock, History } from "../src/core/ports";
import type { TestNode } from "./helpers/node";

/** A promise the test opens by hand: to hold a step of the node until the test is ready. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function send(node: TestNode, count: number, from = 0, to: object = { to: "thread", thread_id: 7 }) {
  for (let i = from; i < from + count; i++) {
    expect((await node.api("/api/broadcast", { body: { event: "new_reply", ...to, data: { i } } })).status).toBe(200);
  }
}

/** User 1 subscribes to the thread, receives `count` events, and goes away: what it saw, with offsets. */
async function seenThenGone(node: TestNode, threadId: number, count: number) {
  const first = await connected(node.url, { auth: { token: tokenFor(1) } });
  await request(first, "subscribe", { thread_id: threadId });
  const seen = record(first);
  await send(node, count, 0, { to: "thread", thread_id: threadId });
  await until(() => seen.length === count);
  first.disconnect();
  return seen;
}

describe("recovery by offsets", () => {
  it("replays exactly the 20 events missed while disconnected, in order, without duplicates", async () => {
    const node = await startNode();
    const seen = await seenThenGone(node, 7, 3);
    const lastOffset = seen[2].meta!.offset;

    await send(node, 20, 3);
    const again = await connected(node.url, { auth: { token: tokenFor(1) } });
    const replayed = record(again);
    const ack = await request(again, "subscribe", { thread_id: 7, since: lastOffset });
    expect(ack).toEqual({ ok: true, channel: "thread.7", recovered: true });
    await send(node, 2, 23);
    await until(() => replayed.length >= 22);
    expect(replayed.map((e) => e.data.i)).toEqual(Array.from({ length: 22 }, (_, k) => k + 3));
    expect(new Set(replayed.map((e) => e.meta!.offset)).size).toBe(22);
  });

  it("says recovered:false when the gap is older than HISTORY_SIZE", async () => {
    const node = await startNode({ HISTORY_SIZE: "5" });
    const seen = await seenThenGone(node, 7, 1);
    await send(node, 20, 1);
    const again = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(again);
    expect(await request(again, "subscribe", { thread_id: 7, since: seen[0].meta!.offset })).toEqual({
      ok: true,
      channel: "thread.7",
      recovered: false,
    });
    await send(node, 1, 21);
    // The last HISTORY_SIZE events still come, then the live one; the app refetches for the rest.
    await until(() => got.length === 6);
    expect(got.map((e) => e.data.i)).toEqual([16, 17, 18, 19, 20, 21]);
  });

  it("recovers the user's own channel from auth.since in the handshake", async () => {
    const node = await startNode();
    const first = await connected(node.url, { auth: { token: tokenFor(3) } });
    const seen = record(first);
    await send(node, 1, 0, { to: "user", user_id: 3 });
    await until(() => seen.length === 1);
    first.disconnect();
    await send(node, 4, 1, { to: "user", user_id: 3 });
    // Listening before the handshake: the replay follows the CONNECT packet at once.
    const again = client(node.url, { auth: { token: tokenFor(3), since: { "user.3": seen[0].meta!.offset } } });
    const got = record(again);
    await until(() => got.length === 4);
    expect(got.map((e) => e.data.i)).toEqual([1, 2, 3, 4]);
  });

  it("emits recovery_failed for a handshake offset it cannot serve", async () => {
    const node = await startNode();
    const socket = client(node.url, { auth: { token: tokenFor(3), since: { "user.3": "1-999" } } });
    const failed = new Promise((resolve) => socket.on("recovery_failed", resolve));
    expect(await failed).toEqual({ channel: "user.3" });
  });

  it("puts live events that arrive during a replay after it, each once", async () => {
    // A history read held open (a slow Redis) at both ends, so that live events land before the
    // read (in the replay and in the live buffer) and after it (in the live buffer only).
    const reading = gate();
    const proceed = gate();
    const read = gate();
    const release = gate();
    const node = await startNode({}, (config) => {
      const state = createEmbeddedState({ historySize: 100, historyTtlS: 600, clock: systemClock });
      const heldSince: History["since"] = async (channel, offset) => {
        reading.open();
        await proceed.opened;
        const replay = await state.history.since(channel, offset);
        read.open();
        await release.opened;
        return replay;
      };
      expect(config.historySize).toBe(100);
      return { ...state, history: { since: heldSince } };
    });
    const seen = await seenThenGone(node, 9, 1);
    await send(node, 10, 1, { to: "thread", thread_id: 9 });

    const again = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(again);
    const ack = request(again, "subscribe", { thread_id: 9, since: seen[0].meta!.offset });
    await reading.opened;
    await send(node, 5, 11, { to: "thread", thread_id: 9 });
    proceed.open();
    await read.opened;
    await send(node, 5, 16, { to: "thread", thread_id: 9 });
    release.open();
    expect(await ack).toMatchObject({ recovered: true });
    await send(node, 1, 21, { to: "thread", thread_id: 9 });
    await until(() => got.some((e) => e.data.i === 21));
    expect(got.map((e) => e.data.i)).toEqual(Array.from({ length: 21 }, (_, k) => k + 1));
  });

  it("subscribes with recovered:false when the history cannot be read, and live events still flow", async () => {
    const node = await startNode({}, () => {
      const state = createEmbeddedState({ historySize: 100, historyTtlS: 600, clock: systemClock });
      return { ...state, history: { since: () => Promise.reject(new Error("history away")) } };
    });
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(socket);
    expect(await request(socket, "subscribe", { thread_id: 9, since: "1-1" })).toEqual({
      ok: true,
      channel: "thread.9",
      recovered: false,
    });
    await send(node, 2, 0, { to: "thread", thread_id: 9 });
    await until(() => got.length === 2);
    expect(got.map((e) => e.data.i)).toEqual([0, 1]);
  });

  it("does not send a replayed event a second time when the bus brings it after the history read", async () => {
    // The history read and the bus are separate connections in cluster mode: here the bus holds
    // its messages until the test lets them through, after the replay has read the history.
    let holding = false;
    const held: Array<() => void> = [];
    const read = gate();
    const node = await startNode({}, () => {
      const state = createEmbeddedState({ historySize: 100, historyTtlS: 600, clock: systemClock });
      const lagging: typeof state.broadcaster = {
        publish: (drafts) => state.broadcaster.publish(drafts),
        publishOnce: (key, ttlS, drafts) => state.broadcaster.publishOnce(key, ttlS, drafts),
        signal: (message) => state.broadcaster.signal(message),
        onGap: () => undefined,
        onMessage: (sink) =>
          state.broadcaster.onMessage((message) => (holding ? held.push(() => sink(message)) : sink(message))),
      };
      const since: History["since"] = async (channel, offset) => {
        const replay = await state.history.since(channel, offset);
        read.open();
        return replay;
      };
      return { ...state, broadcaster: lagging, history: { since } };
    });
    const seen = await seenThenGone(node, 9, 1);

    const again = await connected(node.url, { auth: { token: tokenFor(1) } });
    const got = record(again);
    holding = true;
    await send(node, 1, 1, { to: "thread", thread_id: 9 });
    const ack = request(again, "subscribe", { thread_id: 9, since: seen[0].meta!.offset });
    await read.opened;
    holding = false;
    for (const deliver of held.splice(0)) deliver();
    expect(await ack).toMatchObject({ recovered: true });
    await send(node, 1, 2, { to: "thread", thread_id: 9 });
    await until(() => got.some((e) => e.data.i === 2));
    expect(got.map((e) => e.data.i)).toEqual([1, 2]);
  });

  it("refuses a malformed since", async () => {
    const node = await startNode();
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    expect(await request(socket, "subscribe", { thread_id: 9, since: "yesterday" })).toEqual({
      ok: false,
      error: "invalid",
    });
  });
});
