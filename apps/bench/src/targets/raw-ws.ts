import { distScript } from "../paths";
import { broadcastApiIngress } from "./broadcast-api";
import { startNodeServer } from "./node-server";
import { BENCH_API_KEY } from "./secrets";
import type { RunningTarget, TargetOptions } from "./target";

/** Plain `ws`, framed once (raw-ws-server.ts): the limit the others are measured against. */
export async function startRawWs(options: TargetOptions): Promise<RunningTarget> {
  const node = await startNodeServer(
    "ws",
    distScript("targets/raw-ws-server.js"),
    { PORT: "0", API_KEY: BENCH_API_KEY },
    options,
  );
  const ingress = broadcastApiIngress(node.port);
  return {
    name: "ws",
    url: `ws://127.0.0.1:${node.port}/`,
    protocol: "ws",
    auth: { kind: "none" },
    serverPids: [node.child.pid!],
    helperPids: [],
    ingress,
    httpIngress: ingress,
    // The room is joined during the upgrade, before the client's `open`.
    waitForSubscribers: async () => undefined,
    heapAfterGc: node.heapAfterGc,
    stop: node.stop,
  };
}
