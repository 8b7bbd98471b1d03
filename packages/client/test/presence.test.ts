import { startNode, tokenFor, until } from "./helpers/node";
import { recordedClient } from "./helpers/recorder";
import { startProxy } from "./helpers/tcp-proxy";
import type { PresenceUpdate } from "../src/index.js";

describe("watchPresence", () => {
  it("says who is online, reports changes, and watches again after a reconnect", async () => {
    const node = await startNode({ PRESENCE_GRACE_MS: "200" });
    const proxy = await startProxy(node.port);
    const alice = recordedClient({ url: proxy.url, token: tokenFor(1) });
    const updates: PresenceUpdate[] = [];
    expect(await alice.client.watchPresence([2], (update) => updates.push(update))).toEqual({ online: [] });

    const bob = recordedClient({ url: node.url, token: tokenFor(2) });
    await until(() => updates.length === 1, 10000, "bob online");
    expect(updates[0]).toMatchObject({ user_id: "2", online: true });

    // Bob leaves while Alice is cut off: she hears of it when she is back.
    proxy.down();
    await until(() => alice.states.includes("disconnected"));
    bob.client.close();
    await until(async () => !(await (await node.api("/api/presence/users/2")).json()).online, 10000, "bob offline");
    proxy.up();
    await until(() => updates.length === 2, 15000, "the change seen after the reconnect");
    expect(updates[1]).toMatchObject({ user_id: "2", online: false });
  });
});
