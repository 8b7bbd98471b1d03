import { KEY_PREFIX, memoryStorageForTests } from "./helpers/storage";
import { startNode, tokenFor, until } from "./helpers/node";
import { numbers, recordedClient, subscribeRecorded } from "./helpers/recorder";
import { startProxy } from "./helpers/tcp-proxy";
import type { TestNode } from "./helpers/node";

const thread = (i: number, threadId = 7) => ({ event: "new_reply", to: "thread", thread_id: threadId, data: { i } });
const notify = (i: number, userId = 1) => ({ event: "notification", to: "user", user_id: userId, data: { i } });

async function sendAll(node: TestNode, bodies: Array<Record<string, unknown>>): Promise<void> {
  for (const body of bodies) await node.broadcast(body);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** A first page on `storage`: subscribes to thread 7, gets one thread event and one notification, closes. */
async function seenThenClosed(node: TestNode, storage: ReturnType<typeof memoryStorageForTests>): Promise<void> {
  const first = recordedClient({ url: node.url, token: tokenFor(1), storage });
  await subscribeRecorded(first, 7);
  await sendAll(node, [thread(0), notify(1)]);
  await until(() => first.events.length === 2);
  first.client.close();
}

describe("the client in Node, against a real node", () => {
  it("hands user-channel and thread events to the app, in order, with their meta", async () => {
    const node = await startNode();
    const alice = recordedClient({ url: node.url, token: tokenFor(1) });
    await subscribeRecorded(alice, 7);
    await sendAll(node, [notify(0), thread(1), notify(2), thread(3)]);
    await until(() => alice.events.length === 4, 10000, "4 events");
    expect(alice.events.map((e) => [e.event, e.data.i, e.meta.channel])).toEqual([
      ["notification", 0, "user.1"],
      ["new_reply", 1, "thread.7"],
      ["notification", 2, "user.1"],
      ["new_reply", 3, "thread.7"],
    ]);
    expect(alice.client.state).toBe("connected");
  });

  it("after a cut connection, resubscribes and hands over exactly the missed events, once, in order", async () => {
    const node = await startNode();
    const proxy = await startProxy(node.port);
    const alice = recordedClient({ url: proxy.url, token: tokenFor(1) });
    await subscribeRecorded(alice, 7);
    await sendAll(node, [thread(0), notify(1)]);
    await until(() => alice.events.length === 2);

    proxy.down();
    await until(() => alice.states.includes("disconnected"), 10000, "the client to notice");
    await sendAll(node, [thread(2), notify(3), thread(4), notify(5)]);
    proxy.up();
    await until(() => alice.events.length === 6, 15000, "the missed events");
    // Live again after the reconnect, on both channels: the thread was subscribed again.
    await sendAll(node, [thread(6), notify(7)]);
    await until(() => alice.events.length === 8, 10000, "live events");
    expect(numbers(alice.events.filter((e) => e.meta.channel === "thread.7"))).toEqual([0, 2, 4, 6]);
    expect(numbers(alice.events.filter((e) => e.meta.channel === "user.1"))).toEqual([1, 3, 5, 7]);
    expect(new Set(alice.events.map((e) => e.meta.id)).size).toBe(8);
    expect(alice.gaps).toEqual([]);
  });

  it("a new client with the same storage (a reload) gets what was missed and nothing from before", async () => {
    const node = await startNode();
    const storage = memoryStorageForTests();
    await seenThenClosed(node, storage);
    expect(storage.keys().sort()).toEqual([`${KEY_PREFIX}1:thread.7`, `${KEY_PREFIX}1:user.1`]);

    await sendAll(node, [thread(2), notify(3)]);
    const second = recordedClient({ url: node.url, token: tokenFor(1), storage });
    await subscribeRecorded(second, 7);
    await sendAll(node, [thread(4)]);
    await until(() => second.events.length === 3);
    expect(numbers(second.events.filter((e) => e.meta.channel === "thread.7"))).toEqual([2, 4]);
    expect(numbers(second.events.filter((e) => e.meta.channel === "user.1"))).toEqual([3]);
  });

  it("with storage: false, a new client starts from live events", async () => {
    const node = await startNode();
    const first = recordedClient({ url: node.url, token: tokenFor(1), storage: false });
    await until(() => first.client.state === "connected");
    await sendAll(node, [notify(0)]);
    await until(() => first.events.length === 1);
    first.client.close();
    await sendAll(node, [notify(1)]);
    const second = recordedClient({ url: node.url, token: tokenFor(1), storage: false });
    await until(() => second.client.state === "connected");
    await sendAll(node, [notify(2)]);
    await until(() => second.events.length === 1);
    expect(numbers(second.events)).toEqual([2]);
  });

  it("reports a gap when the history no longer holds the stored offset", async () => {
    const node = await startNode({ HISTORY_SIZE: "5" });
    const storage = memoryStorageForTests();
    await seenThenClosed(node, storage);

    await sendAll(
      node,
      range(2, 12).flatMap((i) => [thread(i), notify(i)]),
    );
    const second = recordedClient({ url: node.url, token: tokenFor(1), storage });
    await subscribeRecorded(second, 7);
    await until(() => second.gaps.length === 2, 10000, "two gaps");
    expect(second.gaps.map((g) => g.channel).sort()).toEqual(["thread.7", "user.1"]);
    // What the history still had comes after the gap, each once: the app refetches the rest.
    await until(() => second.events.length === 10);
    expect(numbers(second.events.filter((e) => e.meta.channel === "thread.7"))).toEqual(range(7, 12));
  });

  it("rejects a refused subscribe with an Error whose code is the ack's error", async () => {
    const node = await startNode();
    const alice = recordedClient({ url: node.url, token: tokenFor(1) });
    const refused = await alice.client.subscribe("user.2").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).toMatchObject({ code: "forbidden", channel: "user.2" });
    await expect(alice.client.subscribe("not a channel")).rejects.toMatchObject({ code: "invalid" });
  });

  it("stops handing a channel's events after unsubscribe, and forgets its offset", async () => {
    const node = await startNode();
    const storage = memoryStorageForTests();
    const alice = recordedClient({ url: node.url, token: tokenFor(1), storage });
    const subscription = await alice.client.subscribe("thread.7");
    subscription.on("new_reply", (data, meta) => alice.events.push({ event: "new_reply", data, meta }));
    await sendAll(node, [thread(0)]);
    await until(() => alice.events.length === 1);
    await subscription.unsubscribe();
    expect(storage.keys()).not.toContain(`${KEY_PREFIX}1:thread.7`);
    await sendAll(node, [thread(1), notify(2)]);
    await until(() => alice.events.length === 2);
    expect(numbers(alice.events)).toEqual([0, 2]);
  });
});
