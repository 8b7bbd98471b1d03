import Echo from "laravel-echo";
import { io, Socket } from "socket.io-client";
import { installLaravelApp } from "../../realtime/test/helpers/laravel-app";
import { cluster, post, tokenFor, until } from "./helpers";

/**
 * The project's Laravel test app with BROADCAST_DRIVER=realtime pointed at nginx: its ShouldBroadcast
 * OrderShipped reaches a real laravel-echo client on each of the 3 nodes exactly once, and toOthers()
 * skips the sender's socket on whichever node it is.
 */
const socketOf = (echo: Echo<"socket.io">): Socket => (echo.connector as unknown as { socket: Socket }).socket;

describe("a Laravel app's ShouldBroadcast event through nginx", () => {
  it("reaches an Echo client on each of the 3 nodes exactly once, and toOthers() skips the sender", async () => {
    const c = await cluster({ nodes: 3 });
    const app = await installLaravelApp();
    const echos = c.nodes.map(
      (node) =>
        new Echo<"socket.io">({
          broadcaster: "socket.io",
          host: node.url,
          client: io,
          transports: ["websocket"],
          bearerToken: tokenFor(c.jwtSecret, node.index + 1),
          withoutInterceptors: true,
        }),
    );
    try {
      const markers: string[][] = echos.map(() => []);
      const ready = echos.map(() => false);
      echos.forEach((echo, i) =>
        echo
          .channel("news")
          .listen("OrderShipped", (data: { marker: string }) => markers[i].push(data.marker))
          .listen(".ready", () => (ready[i] = true)),
      );
      await until(() => echos.every((echo) => socketOf(echo).connected), 20000, "every Echo client connected");
      // Echo's subscribe has no answer: wait until an API marker reaches everyone.
      await until(
        async () => {
          await post(c.url, c.apiKey, { event: "ready", to: "channel", channel: "news", data: {} });
          return ready.every(Boolean);
        },
        20000,
        "every Echo client subscribed",
      );

      const env = {
        BROADCAST_DRIVER: "realtime",
        QUEUE_CONNECTION: "sync",
        WEBSOCKET_SERVER_URL: c.url,
        WEBSOCKET_API_KEY: c.apiKey,
      };
      const sender = echos[0].socketId()!;
      for (const args of [
        ["1", "to-all"],
        ["2", "to-others", `--socket=${sender}`],
        ["3", "after"],
      ]) {
        const shipped = await app.artisan(["realtime:ship", ...args], env);
        expect(shipped.stderr).toBe("");
        expect(shipped.code).toBe(0);
      }
      // "after" is the sentinel: it was sent last, so once everyone has it, nothing else is on its way.
      await until(() => markers.every((seen) => seen.includes("after")), 20000, "the sentinel on every node");
      expect(markers[0]).toEqual(["to-all", "after"]);
      for (const seen of markers.slice(1)) expect(seen).toEqual(["to-all", "to-others", "after"]);
      console.log(`OrderShipped x3 from Laravel via nginx to Echo on nodes 0/1/2: ${JSON.stringify(markers)}`);
    } finally {
      echos.forEach((echo) => echo.disconnect());
      app.remove();
    }
  });
});
