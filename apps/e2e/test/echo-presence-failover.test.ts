import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import jwt from "jsonwebtoken";
import Echo from "laravel-echo";
import { io, Socket } from "socket.io-client";
import { cluster, tokenFor, until } from "./helpers";

const NODE_TTL_MS = 2000;
const GRACE_MS = 500;

/** Laravel's `/broadcasting/auth` for presence channels: the member is the bearer token's user. */
let laravel: Server;
beforeAll(async () => {
  laravel = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const token = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
      const user = (jwt.decode(token) as { sub?: string } | null)?.sub;
      const body =
        req.url === "/broadcasting/auth" ? { channel_data: { user_id: Number(user), user_info: { id: user } } } : {};
      res.writeHead(user ? 200 : 403, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => laravel.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => laravel.close(() => resolve())));

const echos: Array<Echo<"socket.io">> = [];
afterAll(() => echos.splice(0).forEach((echo) => echo.disconnect()));

async function member(url: string, token: string, onEvent?: (kind: string, user: { id: string }) => void) {
  const echo = new Echo<"socket.io">({
    broadcaster: "socket.io",
    host: url,
    client: io,
    transports: ["websocket"],
    reconnection: false,
    auth: { headers: {} },
    bearerToken: token,
    withoutInterceptors: true,
  });
  echos.push(echo);
  let here = false;
  echo
    .join("chat.1")
    .here(() => (here = true))
    .joining((user: { id: string }) => onEvent?.("joining", user))
    .leaving((user: { id: string }) => onEvent?.("leaving", user));
  await until(() => here, 5000, "presence:subscribed");
  return echo;
}

describe("Echo presence channels when a node dies (kill -9)", () => {
  it("announces leaving once for each user who had sockets only there, within NODE_TTL_MS + grace, and none for the others", async () => {
    const url = `http://127.0.0.1:${(laravel.address() as AddressInfo).port}`;
    const c = await cluster({
      nodes: 2,
      env: {
        NODE_TTL_MS: String(NODE_TTL_MS),
        PRESENCE_GRACE_MS: String(GRACE_MS),
        CHANNEL_AUTH: "laravel",
        LARAVEL_API_URL: url,
      },
    });
    const [doomed, survivor] = c.nodes;
    const events: string[] = [];
    await member(survivor.url, tokenFor(c.jwtSecret, 1), (kind, user) => events.push(`${kind} ${user.id}`));
    await member(doomed.url, tokenFor(c.jwtSecret, 42));
    await member(survivor.url, tokenFor(c.jwtSecret, 42));
    await member(doomed.url, tokenFor(c.jwtSecret, 43));
    await member(doomed.url, tokenFor(c.jwtSecret, 44));
    await until(() => events.length === 3, 5000, "three joinings");
    expect(events).toEqual(["joining 42", "joining 43", "joining 44"]);

    const killedAt = Date.now();
    await c.killNode(0);
    await until(() => events.length === 5, NODE_TTL_MS + GRACE_MS + 5000, "two leavings");
    const tookMs = Date.now() - killedAt;
    expect(events.slice(3).sort()).toEqual(["leaving 43", "leaving 44"]);
    // A later leave (user 45, on the survivor) comes after anything the reap could still announce.
    const late = await member(survivor.url, tokenFor(c.jwtSecret, 45));
    await until(() => events.includes("joining 45"), 5000, "joining 45");
    late.disconnect();
    await until(() => events.includes("leaving 45"), 5000, "leaving 45");
    expect(events.filter((event) => event.endsWith(" 42"))).toEqual(["joining 42"]);
    expect(events).toHaveLength(7);
    const echoSocket = (echos[0].connector as unknown as { socket: Socket }).socket;
    expect(echoSocket.connected).toBe(true);
    console.log(`kill -9 of a node: leaving for 43 and 44 after ${tookMs} ms, none for 42 (still on the survivor)`);
  });
});
