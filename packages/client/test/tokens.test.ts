import { startNode, tokenFor, until } from "./helpers/node";
import { recordedClient } from "./helpers/recorder";
import type { RealtimeClientError } from "../src/index.js";

describe("tokens", () => {
  it("calls getToken again before exp and sends auth:refresh, so the socket outlives its first token", async () => {
    const node = await startNode();
    const issued: number[] = [];
    const alice = recordedClient({
      url: node.url,
      getToken: async () => {
        issued.push(Date.now());
        return tokenFor(1, { expiresIn: 3 });
      },
    });
    await until(() => alice.client.state === "connected");
    // The third token is asked for after the first one's exp: the socket must still be the same.
    await until(() => issued.length === 3, 15000, "two renewals");
    expect(issued[2] - issued[0]).toBeGreaterThan(3000);
    await node.broadcast({ event: "notification", to: "user", user_id: 1, data: { i: 0 } });
    await until(() => alice.events.length === 1);
    expect(alice.states).toEqual(["connected"]);
  });

  it("after token_expired, asks getToken for a new token and comes back by itself", async () => {
    const node = await startNode();
    // The renewal before exp gives a token of another user (refused): the server then expires the socket.
    const tokens = [tokenFor(1, { expiresIn: 2 }), tokenFor(2), tokenFor(1)];
    let calls = 0;
    const alice = recordedClient({ url: node.url, getToken: () => tokens[calls++] });
    const errors: RealtimeClientError[] = [];
    alice.client.on("error", (error) => errors.push(error));
    await until(() => calls === 3 && alice.client.state === "connected", 15000, "a reconnection with a new token");
    expect(errors.map((e) => e.code)).toEqual(["forbidden"]);
    expect(alice.states).toEqual(["connected", "disconnected", "connecting", "connected"]);
    await node.broadcast({ event: "notification", to: "user", user_id: 1, data: { i: 0 } });
    await until(() => alice.events.length === 1);
  });

  it("reports a refused static token as an error with the connect error's code", async () => {
    const node = await startNode();
    const alice = recordedClient({ url: node.url, token: tokenFor(1, { expiresIn: -60 }) });
    const error = await new Promise<RealtimeClientError>((resolve) => alice.client.on("error", resolve));
    expect(error.code).toBe("token_expired");
    expect(alice.client.state).toBe("disconnected");
  });
});
