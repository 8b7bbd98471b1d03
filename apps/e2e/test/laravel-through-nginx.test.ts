import { io, Socket } from "socket.io-client";
import { installLaravelApp } from "../../realtime/test/helpers/laravel-app";
import { cluster, tokenFor, until } from "./helpers";

describe("a Laravel app with the package, pointed at nginx", () => {
  it("delivers to sockets connected to each of the 3 nodes", async () => {
    const c = await cluster({ nodes: 3 });
    const app = await installLaravelApp();
    const sockets: Socket[] = [];
    try {
      const received: string[][] = c.nodes.map(() => []);
      for (const node of c.nodes) {
        for (const userId of [42, 100 + node.index]) {
          const socket = io(node.url, {
            auth: { token: tokenFor(c.jwtSecret, userId) },
            transports: ["websocket"],
            reconnection: false,
          });
          sockets.push(socket);
          await new Promise<void>(
            (resolve, reject) => (socket.once("connect", () => resolve()), socket.once("connect_error", reject)),
          );
          await socket.timeout(5000).emitWithAck("subscribe", { thread_id: 7 });
          socket.onAny((event: string) => received[node.index].push(`${userId}:${event}`));
        }
      }
      const env = { WEBSOCKET_SERVER_URL: c.url, WEBSOCKET_API_KEY: c.apiKey, LOG_CHANNEL: "stderr" };
      const test = await app.artisan(["realtime:test"], env);
      expect(test.stdout).toContain("Server status: ok");
      expect(test.code).toBe(0);
      const calls = await app.artisan(["realtime:calls", "42", "7"], env);
      expect(calls.code).toBe(0);
      await until(() => received.every((events) => events.length === 5), 10000, "deliveries on every node");
      for (const [index, events] of received.entries()) {
        expect(events.sort()).toEqual(
          [
            "42:new_reply",
            "42:notification",
            "42:thread_updated",
            `${100 + index}:new_reply`,
            `${100 + index}:thread_updated`,
          ].sort(),
        );
      }
    } finally {
      for (const socket of sockets) socket.disconnect();
      app.remove();
    }
  });
});
