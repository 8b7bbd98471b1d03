import Redis from "ioredis";
import { distScript } from "../paths";
import { startRedis } from "../proc/redis-server";
import { broadcastApiIngress } from "./broadcast-api";
import { sleep } from "./http-get";
import { startNodeServer, StartedNode } from "./node-server";
import { BENCH_API_KEY, BENCH_JWT_SECRET } from "./secrets";
import { DEFAULT_CLUSTER_NODES, RunningTarget, TargetNode, TargetOptions } from "./target";

/**
 * The peer of `ours-cluster`: N (default 2) bare socket.io 4.8 + @socket.io/redis-adapter servers
 * (bare-socketio-server.ts, as `bare` runs it) on one private redis-server. Same shape as ours-cluster:
 * clients connect to node 1 (`url`, "the server"), the publisher posts to node 2 (`ingress`), so every
 * event crosses Redis; the other nodes and Redis are helpers. The nodes are pinned to the server core,
 * Redis to the generator's core.
 */
export async function startBareCluster(options: TargetOptions): Promise<RunningTarget> {
  if (options.memoryProbe) throw new Error("bare-cluster has no memory probe (use bare for mem)");
  const count = Math.max(2, Math.floor(options.nodes ?? DEFAULT_CLUSTER_NODES));
  const redis = await startRedis(options.pinning);
  const started: StartedNode[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((node) => node.stop()));
    await redis.stop();
  };
  try {
    // One after the other: a node's start-up (module loading) is CPU bound and they share a core.
    for (let i = 1; i <= count; i++) {
      started.push(
        await startNodeServer(
          `bare-cluster-${i}`,
          distScript("targets/bare-socketio-server.js"),
          { PORT: "0", API_KEY: BENCH_API_KEY, JWT_SECRET: BENCH_JWT_SECRET, REDIS_PORT: String(redis.port) },
          options,
        ),
      );
    }
    // A node says "listening" before its adapter's PSUBSCRIBE is through: wait for every one of them.
    await waitForPatternSubscribers(redis.port, count, 10_000);
    const nodes: TargetNode[] = started.map((node) => ({
      url: `ws://127.0.0.1:${node.port}/socket.io/`,
      pid: node.child.pid!,
      ingress: broadcastApiIngress(node.port),
    }));
    const [receiver, sender, ...others] = nodes;
    return {
      name: "bare-cluster",
      url: receiver.url,
      protocol: "eio4",
      auth: { kind: "jwt", secret: BENCH_JWT_SECRET },
      serverPids: [receiver.pid],
      helperPids: [sender.pid, ...others.map((node) => node.pid), redis.pid],
      ingress: sender.ingress,
      httpIngress: sender.ingress,
      nodes,
      redis: { port: redis.port, pid: redis.pid },
      // `subscribe` is acknowledged after the join; the adapter's pattern subscription covers every room.
      waitForSubscribers: async () => undefined,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Polls `CLIENT LIST` until `count` connections hold a pattern subscription (one per redis-adapter
 * node; they all PSUBSCRIBE the same pattern, so `PUBSUB NUMPAT`, which counts patterns, says 1).
 */
async function waitForPatternSubscribers(port: number, count: number, timeoutMs: number): Promise<void> {
  const client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = String(await client.client("LIST"));
      const subscribed = list.split("\n").filter((line) => /\bpsub=[1-9]/.test(line)).length;
      if (subscribed >= count) return;
      if (Date.now() > deadline) throw new Error(`bare-cluster: ${subscribed} of ${count} nodes subscribed to Redis`);
      await sleep(50);
    }
  } finally {
    client.disconnect();
  }
}
