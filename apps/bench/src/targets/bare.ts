import { distScript } from "../paths";
import { startRedis } from "../proc/redis-server";
import { broadcastApiIngress } from "./broadcast-api";
import { startNodeServer } from "./node-server";
import { BENCH_API_KEY, BENCH_JWT_SECRET } from "./secrets";
import type { RunningTarget, TargetOptions } from "./target";

/** socket.io 4.8 + redis-adapter (bare-socketio-server.ts) with its own Redis. */
export async function startBare(options: TargetOptions): Promise<RunningTarget> {
  const redis = await startRedis(options.pinning);
  try {
    const node = await startNodeServer(
      "bare",
      distScript("targets/bare-socketio-server.js"),
      { PORT: "0", API_KEY: BENCH_API_KEY, JWT_SECRET: BENCH_JWT_SECRET, REDIS_PORT: String(redis.port) },
      options,
    );
    const ingress = broadcastApiIngress(node.port);
    return {
      name: "bare",
      url: `ws://127.0.0.1:${node.port}/socket.io/`,
      protocol: "eio4",
      auth: { kind: "jwt", secret: BENCH_JWT_SECRET },
      serverPids: [node.child.pid!],
      helperPids: [redis.pid],
      redis: [{ port: redis.port, pid: redis.pid }],
      ingress,
      httpIngress: ingress,
      waitForSubscribers: async () => undefined,
      heapAfterGc: node.heapAfterGc,
      stop: async () => {
        await node.stop();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}
