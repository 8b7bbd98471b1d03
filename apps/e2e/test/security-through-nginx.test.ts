import { request } from "node:http";
import { io } from "socket.io-client";
import { cluster, forumClient, spread, tokenFor, until } from "./helpers";

/** A bare polling handshake through nginx from a given loopback source, to read its status. */
function pollingHandshake(url: string, source: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/socket.io/?EIO=4&transport=polling`, { localAddress: source, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the security controls behind nginx (2 nodes, MAX_CONNECTIONS=1, CORS_ORIGINS)", () => {
  it("sends a handshake a full node refuses to the other node, and refuses a foreign Origin", async () => {
    const c = await cluster({ nodes: 2, env: { MAX_CONNECTIONS: "1", CORS_ORIGINS: "http://localhost" } });
    // The same source address: nginx's address hash picks the same node for both.
    const source = "127.0.0.60";
    const first = forumClient(c.url, { secret: c.jwtSecret, userId: 1, source, transport: "websocket" });
    await first.ready;
    const second = forumClient(c.url, { secret: c.jwtSecret, userId: 2, source, transport: "websocket" });
    await second.ready;
    expect((await spread(c)).sort()).toEqual([1, 1]);

    // Both full: nginx has no node left to try.
    expect(await pollingHandshake(c.url, source)).toBe(503);
    const third = io(c.url, {
      transports: ["websocket"],
      reconnection: false,
      auth: { token: tokenFor(c.jwtSecret, 3) },
    });
    const error = await new Promise<Error>((resolve) => third.once("connect_error", resolve));
    third.close();
    expect(error.message).toBe("websocket error");

    // A node's metrics count the refusal (nginx asked the full node first).
    const refused = await Promise.all(
      c.nodes.map(async (node) => {
        const text = await (await fetch(`${node.url}/metrics`)).text();
        return Number(/realtime_handshakes_refused_total\{reason="node_full"\} (\d+)/.exec(text)?.[1] ?? 0);
      }),
    );
    expect(refused.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);

    // Once one leaves, there is room again.
    first.socket.disconnect();
    await until(async () => (await spread(c)).reduce((a, b) => a + b, 0) === 1, 5000, "the first socket to leave");
    expect(await pollingHandshake(c.url, "127.0.0.61", { Origin: "http://evil.example" })).toBe(403);
    expect(await pollingHandshake(c.url, "127.0.0.61", { Origin: "http://localhost" })).toBe(200);
  });
});
