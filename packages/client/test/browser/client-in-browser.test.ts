import { launchBrowser, TestBrowser } from "../helpers/browser";
import { startNode, tokenFor } from "../helpers/node";
import { startProxy } from "../helpers/tcp-proxy";
import { events, openTestPage, servePage, waitForLog } from "../helpers/test-page";
import type { LogEntry } from "../helpers/test-page";
import type { TestNode } from "../helpers/node";

let browser: TestBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(() => browser.close());

const thread = (i: number) => ({ event: "new_reply", to: "thread", thread_id: 7, data: { i } });
const notify = (i: number) => ({ event: "notification", to: "user", user_id: 1, data: { i } });
/** Even numbers to the thread, odd ones to the user: two channels interleaved. */
const mixed = (i: number) => (i % 2 === 0 ? thread(i) : notify(i));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

async function send(node: TestNode, numbers: number[], body = mixed): Promise<void> {
  for (const i of numbers) await node.broadcast(body(i));
}

/** Each event handed over once, and per channel in increasing offsets and numbers. */
function expectOncePerChannelInOrder(handed: LogEntry[]): void {
  expect(new Set(handed.map((e) => e.id)).size).toBe(handed.length);
  for (const channel of new Set(handed.map((e) => e.channel))) {
    const own = handed.filter((e) => e.channel === channel).map((e) => e.i!);
    expect(own).toEqual([...own].sort((a, b) => a - b));
  }
}

describe("the browser bundle in Chromium", () => {
  it("connects from a <script> tag and hands over user-channel and thread events in order", async () => {
    const node = await startNode();
    const page = await openTestPage(browser, await servePage(), { url: node.url, token: tokenFor(1), thread: 7 });
    await waitForLog(page, "subscribed");
    expect(
      await page.page.evaluate(
        () => typeof (window as unknown as { MechaMapRealtime: { connect: unknown } }).MechaMapRealtime.connect,
      ),
    ).toBe("function");
    await send(node, range(0, 6));
    await waitForLog(page, "event", 6);
    const log = page.log;
    expect(events(log).map((e) => [e.event, e.i, e.channel])).toEqual(
      range(0, 6).map((i) => (i % 2 === 0 ? ["new_reply", i, "thread.7"] : ["notification", i, "user.1"])),
    );
    expect(log.filter((e) => e.kind === "state").map((e) => e.state)).toEqual(["connected"]);
  });

  it("after the connection is cut while events are sent, reconnects by itself and hands over exactly the missed ones", async () => {
    const node = await startNode();
    const proxy = await startProxy(node.port);
    const page = await openTestPage(browser, await servePage(), { url: proxy.url, token: tokenFor(1), thread: 7 });
    await waitForLog(page, "subscribed");
    await send(node, range(0, 2));
    await waitForLog(page, "event", 2);

    proxy.down();
    await send(node, range(2, 5));
    await waitForLog(page, "state", 1, { state: "disconnected" });
    await send(node, range(5, 8));
    proxy.up();
    await waitForLog(page, "event", 8);
    await send(node, range(8, 10)); // live again, on both channels
    await waitForLog(page, "event", 10);

    const handed = events(page.log);
    expect(handed.map((e) => e.i)).toHaveLength(10);
    expect(handed.map((e) => e.i).sort((a, b) => a! - b!)).toEqual(range(0, 10));
    expectOncePerChannelInOrder(handed);
  });

  it("after a reload while events are sent, hands over exactly the events the old page had not, and nothing from before", async () => {
    const node = await startNode();
    const page = await openTestPage(browser, await servePage(), { url: node.url, token: tokenFor(1), thread: 7 });
    await waitForLog(page, "subscribed");
    await send(node, range(0, 4));
    await waitForLog(page, "event", 4);

    const reloaded = page.page.reload();
    await send(node, range(4, 10));
    await reloaded;
    await send(node, range(10, 14));
    await waitForLog(page, "event", 14).catch((e) => {
      console.log(JSON.stringify(page.log.map(({ load, kind, i, state, offset }) => [load, kind, i ?? state, offset])));
      throw e;
    });

    const handed = events(page.log);
    expect(handed.map((e) => e.i).sort((a, b) => a! - b!)).toEqual(range(0, 14));
    expectOncePerChannelInOrder(handed);
    const second = handed.filter((e) => e.load === 2);
    // The new page starts where the old one stopped, on each channel.
    for (const channel of ["thread.7", "user.1"]) {
      const before = handed.filter((e) => e.load === 1 && e.channel === channel).map((e) => e.i!);
      const after = second.filter((e) => e.channel === channel).map((e) => e.i!);
      expect(Math.min(...after)).toBeGreaterThan(Math.max(...before));
    }
    expect(second.length).toBeGreaterThanOrEqual(4);
  });

  it("reports a gap when the events missed are older than HISTORY_SIZE", async () => {
    const node = await startNode({ HISTORY_SIZE: "5" });
    const proxy = await startProxy(node.port);
    const page = await openTestPage(browser, await servePage(), { url: proxy.url, token: tokenFor(1), thread: 7 });
    await waitForLog(page, "subscribed");
    await send(node, [0], thread);
    await waitForLog(page, "event", 1);

    proxy.down();
    await waitForLog(page, "state", 1, { state: "disconnected" });
    await send(node, range(1, 12), thread);
    proxy.up();
    await waitForLog(page, "gap");
    await waitForLog(page, "event", 6);
    const log = page.log;
    expect(log.filter((e) => e.kind === "gap").map((e) => e.channel)).toEqual(["thread.7"]);
    // What history still held follows the gap; the app refetches the rest from Laravel.
    expect(events(log).map((e) => e.i)).toEqual([0, 7, 8, 9, 10, 11]);
  });

  it("watchPresence sees another page's user come online and, after the grace, go offline", async () => {
    const node = await startNode({ PRESENCE_GRACE_MS: "300" });
    const base = await servePage();
    const alice = await openTestPage(browser, base, { url: node.url, token: tokenFor(1), watch: 2 });
    await waitForLog(alice, "watching");
    expect(alice.log.find((e) => e.kind === "watching")?.online).toEqual([]);

    // On WebSocket, so that the tab's closing reaches the node at once; a tab closed while still on
    // long-polling is noticed only by the heartbeat (Socket.IO's pingInterval + pingTimeout).
    const bob = await openTestPage(browser, base, { url: node.url, token: tokenFor(2), transports: "websocket" });
    await waitForLog(alice, "presence", 1, { online: true });
    const closedAt = Date.now();
    await bob.page.close({ runBeforeUnload: true }); // as a user closing the tab
    await waitForLog(alice, "presence", 1, { online: false });

    const presence = alice.log.filter((e) => e.kind === "presence");
    expect(presence.map((e) => [e.user_id, e.online])).toEqual([
      ["2", true],
      ["2", false],
    ]);
    expect(presence[1].t - closedAt).toBeGreaterThanOrEqual(300);
  });
});
