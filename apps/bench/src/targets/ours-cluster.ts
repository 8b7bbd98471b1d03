import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { startCluster } from "@mechamap/cluster-runner";
import { trackPids } from "../proc/children";
import { broadcastApiIngress } from "./broadcast-api";
import { cpuProfileArgs } from "./node-server";
import { BENCH_API_KEY, BENCH_JWT_SECRET } from "./secrets";
import { DEFAULT_CLUSTER_NODES, RedisServer, RunningTarget, TargetNode, TargetOptions } from "./target";

/**
 * Ours in cluster mode (S4, S5, T7/T9): packages/cluster-runner's `startCluster()` with N nodes
 * (`--nodes`, default 2) on one Redis, or with `--redis-cluster` on the runner's own Redis Cluster
 * (3 masters + 3 replicas; the nodes get REDIS_CLUSTER_NODES alone). In S4 subscribers connect straight to node 1 and the publisher
 * posts to node 2, so every event crosses Redis (nginx is started by the runner but carries no
 * traffic). "The server" is the receiving node 1; the other nodes, Redis and nginx are helpers; S5
 * uses `nodes` to spread its rooms. All nodes are pinned to the server core, Redis and nginx stay on
 * the generator's core (they inherit the harness's affinity).
 */
export function startOursCluster(options: TargetOptions): Promise<RunningTarget> {
  return startOursClusterFrom("ours-cluster", undefined, options);
}

/**
 * ours-cluster with the nodes built from another checkout (BENCH_BASELINE_MAIN, as ours-base), to
 * measure the cluster and single-Redis paths before and after a change in one run.
 */
export function startOursClusterBaseline(options: TargetOptions): Promise<RunningTarget> {
  const main = process.env.BENCH_BASELINE_MAIN;
  if (!main || !existsSync(main)) {
    throw new Error(
      "ours-cluster-base needs BENCH_BASELINE_MAIN: the dist/main.js of apps/realtime built from another checkout",
    );
  }
  return startOursClusterFrom("ours-cluster-base", main, options);
}

async function startOursClusterFrom(
  name: "ours-cluster" | "ours-cluster-base",
  nodeScript: string | undefined,
  options: TargetOptions,
): Promise<RunningTarget> {
  if (options.memoryProbe) throw new Error(`${name} has no memory probe (use ours for mem)`);
  const cluster = await startCluster({
    nodes: Math.max(2, Math.floor(options.nodes ?? DEFAULT_CLUSTER_NODES)),
    redisCluster: Boolean(options.redisCluster),
    ...(nodeScript ? { nodeScript } : {}),
    // A profile per node, named by target and node (node-1 receives in S4, node-2 takes the posts).
    nodeArgs: (id) => cpuProfileArgs(`${name}-${id}`, options.cpuProfileDir),
    baseEnv: { PATH: process.env.PATH ?? "" },
    env: {
      NODE_ENV: "test",
      API_RATE_LIMIT: "1000000",
      SOCKET_EVENT_RATE_LIMIT: String(options.socketEventRateLimit),
    },
    jwtSecret: BENCH_JWT_SECRET,
    apiKey: BENCH_API_KEY,
  });
  const [receiver, sender, ...others] = cluster.nodes;
  const redis: RedisServer[] = cluster.redisCluster
    ? cluster.redisCluster.map(({ port, pid }) => ({ port, pid }))
    : cluster.redis?.pid
      ? [{ port: Number(new URL(cluster.redis.url).port), pid: cluster.redis.pid }]
      : [];
  const helperPids = [
    sender.pid,
    ...others.map((node) => node.pid),
    ...redis.map((server) => server.pid),
    cluster.nginx.pid,
  ];
  const forget = trackPids([receiver.pid, ...helperPids]);
  try {
    if (options.pinning.enabled) {
      for (const node of cluster.nodes) {
        execFileSync("taskset", ["-a", "-p", "-c", "0", String(node.pid)], { stdio: "ignore" });
      }
    }
    const ingress = broadcastApiIngress(sender.port);
    const nodes: TargetNode[] = cluster.nodes.map((node) => ({
      url: `ws://127.0.0.1:${node.port}/socket.io/`,
      pid: node.pid,
      ingress: broadcastApiIngress(node.port),
    }));
    return {
      name,
      url: `ws://127.0.0.1:${receiver.port}/socket.io/`,
      protocol: "eio4",
      auth: { kind: "jwt", secret: BENCH_JWT_SECRET },
      serverPids: [receiver.pid],
      helperPids,
      ingress,
      httpIngress: ingress,
      nodes,
      ...(redis.length > 0 ? { redis } : {}),
      // Subscribing is acknowledged by node 1 once it holds the room (and its Redis subscription).
      waitForSubscribers: async () => undefined,
      stop: async () => {
        await cluster.stop();
        forget();
      },
    };
  } catch (error) {
    await cluster.stop();
    forget();
    throw error;
  }
}
