import { Agent } from "node:http";
import Redis from "ioredis";
import Echo from "laravel-echo";
import { io, Socket } from "socket.io-client";
import { cluster, post, spread, tokenFor, until } from "./helpers";

/**
 * Real laravel-echo 2.x clients (socket.io connector) through nginx onto 3 nodes: broadcasts from the
 * API and from Laravel's own RedisBroadcaster (its EVAL, verbatim) reach each listener exactly once.
 */
const echos: Array<Echo<"socket.io">> = [];
afterAll(() => echos.splice(0).forEach((echo) => echo.disconnect()));

function echoClient(url: string, token: string, source: string, transport: "websocket" | "polling") {
  const echo = new Echo<"socket.io">({
    broadcaster: "socket.io",
    host: url,
    client: io,
    transports: [transport],
    upgrade: false,
    localAddress: source,
    agent: new Agent({ localAddress: source, keepAlive: true }),
    auth: { headers: {} },
    bearerToken: token,
    withoutInterceptors: true,
  });
  echos.push(echo);
  return echo;
}

const socketOf = (echo: Echo<"socket.io">): Socket => (echo.connector as unknown as { socket: Socket }).socket;
const LARAVEL_SCRIPT = "for i = 2, #ARGV do\n  redis.call('publish', ARGV[i], ARGV[1])\nend";

describe("Laravel Echo through nginx", () => {
  it("delivers API and Laravel Redis broadcasts to Echo clients on every node exactly once, toOthers included", async () => {
    const c = await cluster({ nodes: 3 });
    const got: Array<Array<{ n: number }>> = [];
    const clients = Array.from({ length: 9 }, (_, i) => {
      const echo = echoClient(
        c.url,
        tokenFor(c.jwtSecret, i + 1),
        `127.0.0.${20 + i}`,
        i % 2 ? "polling" : "websocket",
      );
      got.push([]);
      echo.channel("news").listen(".posted", (data: { n: number }) => got[i].push(data));
      return echo;
    });
    await until(() => clients.every((echo) => socketOf(echo).connected), 20000, "every client connected");
    const perNode = await spread(c);
    expect(perNode.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
    // Echo's subscribe has no answer: wait until a marker reaches everyone.
    await until(
      async () => {
        await post(c.url, c.apiKey, { event: "posted", to: "channel", channel: "news", data: { n: 0 } });
        return got.every((seen) => seen.some((data) => data.n === 0));
      },
      20000,
      "every client subscribed",
    );
    // The readiness markers (n = 0) are left out from here on: some may still be on their way.
    const counted = (seen: Array<{ n: number }>): number[] => seen.map((data) => data.n).filter((n) => n > 0);

    const sender = clients[0].socketId()!;
    for (let n = 1; n <= 10; n++) {
      const status = await post(c.url, c.apiKey, {
        event: "posted",
        to: "channel",
        channel: "news",
        data: { n },
        ...(n === 5 ? { socket_id: sender } : {}),
      });
      expect(status).toBe(200);
    }
    const laravel = new Redis(c.redis!.url);
    try {
      for (let n = 11; n <= 20; n++) {
        await laravel.eval(
          LARAVEL_SCRIPT,
          0,
          JSON.stringify({ event: "posted", data: { n }, socket: null }),
          "laravel_database_news",
        );
      }
    } finally {
      laravel.disconnect();
    }

    await until(() => got.every((seen) => seen.some((data) => data.n === 20)), 20000, "every delivery");
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(counted(got[0])).toEqual(all.filter((n) => n !== 5));
    for (const seen of got.slice(1)) expect(counted(seen)).toEqual(all);
    console.log(`20 broadcasts (10 API, 10 Laravel Redis) x 9 Echo clients over nodes ${perNode.join("/")}: each once`);
  });
});
