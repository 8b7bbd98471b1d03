import { existsSync } from "node:fs";
import { OURS_MAIN } from "../paths";
import { broadcastApiIngress } from "./broadcast-api";
import { startNodeServer } from "./node-server";
import { BENCH_API_KEY, BENCH_JWT_SECRET } from "./secrets";
import type { RunningTarget, TargetOptions } from "./target";

/** The node under test, embedded mode (one process, no Redis), exactly as `npm start` runs it. */
export function startOurs(options: TargetOptions): Promise<RunningTarget> {
  if (!existsSync(OURS_MAIN)) {
    throw new Error(`${OURS_MAIN} is missing: build apps/realtime first (npm run build)`);
  }
  return startOursFrom("ours", OURS_MAIN, options);
}

/**
 * The same node built from another checkout, e.g. `git worktree add /tmp/base main && (cd /tmp/base
 * && npm ci && npm run build)`, then `BENCH_BASELINE_MAIN=/tmp/base/apps/realtime/dist/main.js`.
 */
export function startOursBaseline(options: TargetOptions): Promise<RunningTarget> {
  const main = process.env.BENCH_BASELINE_MAIN;
  if (!main || !existsSync(main)) {
    throw new Error(
      "ours-base needs BENCH_BASELINE_MAIN: the dist/main.js of apps/realtime built from another checkout",
    );
  }
  return startOursFrom("ours-base", main, options);
}

async function startOursFrom(name: "ours" | "ours-base", main: string, options: TargetOptions): Promise<RunningTarget> {
  const node = await startNodeServer(
    name,
    main,
    {
      NODE_ENV: "test",
      PORT: "0",
      HOST: "127.0.0.1",
      NODE_ID: "bench-ours",
      LARAVEL_API_KEY: BENCH_API_KEY,
      JWT_SECRET: BENCH_JWT_SECRET,
      // info: the listening line carries the port; accepted API calls are logged at debug only.
      LOG_LEVEL: "info",
      API_RATE_LIMIT: "1000000",
      SOCKET_EVENT_RATE_LIMIT: String(options.socketEventRateLimit),
    },
    options,
  );
  const ingress = broadcastApiIngress(node.port);
  return {
    name,
    url: `ws://127.0.0.1:${node.port}/socket.io/`,
    protocol: "eio4",
    auth: { kind: "jwt", secret: BENCH_JWT_SECRET },
    serverPids: [node.child.pid!],
    helperPids: [],
    ingress,
    httpIngress: ingress,
    // Subscribing is acknowledged: a client counts as subscribed only after its ack.
    waitForSubscribers: async () => undefined,
    heapAfterGc: node.heapAfterGc,
    stop: node.stop,
  };
}
