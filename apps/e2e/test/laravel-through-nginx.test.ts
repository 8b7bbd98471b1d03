import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io, Socket } from "socket.io-client";
import { cluster, tokenFor, until } from "./helpers";

const HARNESS = join(__dirname, "../../../../shared/laravel-harness");

function artisan(app: string, env: Record<string, string>, ...args: string[]) {
  return new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn("php", ["artisan", ...args], { cwd: app, env: { ...process.env, ...env } });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("the seed's Laravel code pointed at nginx", () => {
  it("delivers to sockets connected to each of the 3 nodes", async () => {
    const c = await cluster({ nodes: 3 });
    const dir = mkdtempSync(join(tmpdir(), "laravel-e2e-"));
    const app = join(dir, "app");
    cpSync(join(HARNESS, "app-skeleton"), app, { recursive: true });
    for (const sub of ["storage/logs", "storage/framework/cache", "storage/framework/views", "bootstrap/cache"]) {
      mkdirSync(join(app, sub), { recursive: true });
    }
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
      const test = await artisan(app, env, "realtime:test");
      expect(test.stdout).toContain("Server status: ok");
      expect(test.code).toBe(0);
      const calls = await artisan(app, env, "harness:seed-calls", "42", "7");
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
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
