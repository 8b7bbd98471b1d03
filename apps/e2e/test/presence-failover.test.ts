import { io } from "socket.io-client";
import { cluster, tokenFor, until } from "./helpers";

const NODE_TTL_MS = 2000;
const GRACE_MS = 500;

describe("presence when a node dies (kill -9)", () => {
  it("takes its users offline within NODE_TTL_MS + grace, once each, and none who are still connected elsewhere", async () => {
    const c = await cluster({
      nodes: 2,
      env: { NODE_TTL_MS: String(NODE_TTL_MS), PRESENCE_GRACE_MS: String(GRACE_MS) },
    });
    const [doomed, survivor] = c.nodes;
    const connect = async (url: string, userId: number) => {
      const socket = io(url, {
        auth: { token: tokenFor(c.jwtSecret, userId) },
        transports: ["websocket"],
        reconnection: false,
      });
      await new Promise<void>(
        (resolve, reject) => (socket.once("connect", () => resolve()), socket.once("connect_error", reject)),
      );
      return socket;
    };
    const watcher = await connect(survivor.url, 1);
    const events: Array<{ event: string; user: string; at: number }> = [];
    watcher.onAny((event: string, data: { user_id: string }) =>
      events.push({ event, user: data.user_id, at: Date.now() }),
    );
    expect(await watcher.timeout(5000).emitWithAck("presence:watch", { user_ids: [42, 43, 44] })).toMatchObject({
      ok: true,
    });

    const tabs = [
      await connect(doomed.url, 42),
      await connect(survivor.url, 42),
      await connect(doomed.url, 43),
      await connect(doomed.url, 44),
    ];
    await until(() => events.filter((e) => e.event === "user_online").length === 3, 5000, "three users online");

    await c.killNode(doomed.index);
    const killedAt = Date.now();
    // User 44 reloads the page and lands on the other node before the reaper runs.
    tabs.push(await connect(survivor.url, 44));
    await until(() => events.some((e) => e.event === "user_offline"), NODE_TTL_MS + GRACE_MS + 5000, "user_offline");
    // No other transition is pending: 42 and 44 still hold a socket, 43 is gone (a user_offline only
    // comes from a user left with none), so waiting longer could not bring another event.
    const presence = await fetch(`${survivor.url}/api/presence/users?ids=42,43,44`, {
      headers: { "X-WebSocket-API-Key": c.apiKey },
    });
    expect(await presence.json()).toEqual({
      users: {
        "42": { online: true, connections: 1 },
        "43": { online: false, connections: 0 },
        "44": { online: true, connections: 1 },
      },
    });

    const offline = events.filter((e) => e.event === "user_offline");
    const tookMs = offline[0].at - killedAt;
    console.log(
      `kill -9: user_offline for ${offline.map((e) => e.user).join(",")} after ${tookMs} ms (TTL ${NODE_TTL_MS} + grace ${GRACE_MS})`,
    );
    // How long it took is logged, not asserted (timing is the unit tests' job, on a ManualTime).
    expect(offline.map((e) => e.user)).toEqual(["43"]);
    expect(
      events
        .filter((e) => e.event === "user_online")
        .map((e) => e.user)
        .sort(),
    ).toEqual(["42", "43", "44"]);
    for (const socket of [watcher, ...tabs]) socket.disconnect();
  });
});
