import { createServer, Server } from "node:net";
import { loadConfig } from "../src/config/load-config";
import { createRedisState } from "../src/state/redis-state";

/**
 * A Redis older than 7 has no sharded pub/sub: the node must refuse to start and say why. Debian
 * ships Redis 7 only, so the old server is a stand-in speaking just enough RESP (every command
 * answers +OK, INFO answers the version of a Redis 6.2): the one fake in these tests, for what
 * cannot run here.
 */
let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((socket) => {
    socket.on("data", (chunk) => {
      for (const command of chunk.toString().split("*").slice(1)) {
        const info = "# Server\r\nredis_version:6.2.14\r\nloading:0\r\n";
        socket.write(/\binfo\b/i.test(command) ? `$${info.length}\r\n${info}\r\n` : "+OK\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("start-up on an old Redis", () => {
  it("refuses Redis 6 with an error naming the server and its version", async () => {
    const { config } = loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
    await expect(createRedisState(config, { onError: () => undefined })).rejects.toThrow(
      `Redis at 127.0.0.1:${port} is version 6.2.14; MechaMap Realtime needs Redis >= 7.0`,
    );
  });
});
