import Redis from "ioredis";
import { distScript } from "../paths";
import { broadcastApiIngress } from "./broadcast-api";
import { sleep } from "./http-get";
import { startNodeServer, StartedNode } from "./node-server";
import { RedisBackend, startRedisBackend } from "./redis-backend";
import { BENCH_API_KEY, BENCH_JWT_SECRET } from "./secrets";
import { DEFAULT_CLUSTER_NODES, RedisServer, RunningTarget, TargetNode, TargetOptions } from "./target";

/**
 * The peers of `ours-cluster`: N (default 2) hand-written socket.io 4.8 nodes on one redis-server,
 * or with `--redis-cluster` on a local Redis Cluster (3 masters + 3 replicas).
 * - `bare-cluster`: @socket.io/redis-adapter's classic adapter (bare-socketio-server.ts, as `bare`
 *   runs it): one PSUBSCRIBE per node, every node reads every event.
 * - `sharded-cluster`: its sharded adapter, `subscriptionMode: "dynamic"` (sharded-socketio-server.ts):
 *   one SSUBSCRIBE per room a node holds, the peer a team would pick for many small rooms.
 * Same shape as ours-cluster: clients connect to node 1 (`url`, "the server"), the publisher posts to
 * node 2 (`ingress`), so every event crosses Redis; the other nodes and Redis are helpers. The nodes
 * are pinned to the server core, Redis to the generator's core.
 */
export function startBareCluster(options: TargetOptions): Promise<RunningTarget> {
  return startSocketIoCluster("bare-cluster", "targets/bare-socketio-server.js", options, classicSubscribers);
}

export function startShardedCluster(options: TargetOptions): Promise<RunningTarget> {
  return startSocketIoCluster("sharded-cluster", "targets/sharded-socketio-server.js", options, shardedSubscribers);
}

/** How many of the nodes' adapters are subscribed, counted over every Redis server. */
type SubscriberCount = (servers: RedisServer[]) => Promise<number>;

async function startSocketIoCluster(
  name: "bare-cluster" | "sharded-cluster",
  script: string,
  options: TargetOptions,
  subscribers: SubscriberCount,
): Promise<RunningTarget> {
  if (options.memoryProbe) throw new Error(`${name} has no memory probe (use bare for mem)`);
  const count = Math.max(2, Math.floor(options.nodes ?? DEFAULT_CLUSTER_NODES));
  const redis: RedisBackend = await startRedisBackend(options);
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
          `${name}-${i}`,
          distScript(script),
          { PORT: "0", API_KEY: BENCH_API_KEY, JWT_SECRET: BENCH_JWT_SECRET, ...redis.env },
          options,
        ),
      );
    }
    // A node says "listening" before its adapter's subscription is through: wait for every one of them.
    await waitForSubscribers(name, redis.servers, subscribers, count, 15_000);
    const nodes: TargetNode[] = started.map((node) => ({
      url: `ws://127.0.0.1:${node.port}/socket.io/`,
      pid: node.child.pid!,
      ingress: broadcastApiIngress(node.port),
    }));
    const [receiver, sender, ...others] = nodes;
    return {
      name,
      url: receiver.url,
      protocol: "eio4",
      auth: { kind: "jwt", secret: BENCH_JWT_SECRET },
      serverPids: [receiver.pid],
      helperPids: [sender.pid, ...others.map((node) => node.pid), ...redis.servers.map((server) => server.pid)],
      ingress: sender.ingress,
      httpIngress: sender.ingress,
      nodes,
      redis: redis.servers,
      // `subscribe` is acknowledged after the join (sharded-cluster: after the room's SSUBSCRIBE).
      waitForSubscribers: async () => undefined,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function waitForSubscribers(
  name: string,
  servers: RedisServer[],
  subscribed: SubscriberCount,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await subscribed(servers);
    if (ready >= count) return;
    if (Date.now() > deadline) throw new Error(`${name}: ${ready} of ${count} nodes subscribed to Redis`);
    await sleep(50);
  }
}

/**
 * Connections holding a pattern subscription (one per classic adapter; they all PSUBSCRIBE the same
 * pattern, so `PUBSUB NUMPAT`, which counts patterns, says 1), from `CLIENT LIST` of every server.
 */
const classicSubscribers: SubscriberCount = async (servers) => {
  const lists = await Promise.all(servers.map((server) => ask(server.port, ["CLIENT", "LIST"])));
  return lists.reduce(
    (sum: number, list) =>
      sum +
      String(list ?? "")
        .split("\n")
        .filter((line) => /\bpsub=[1-9]/.test(line)).length,
    0,
  );
};

/**
 * Sharded adapters subscribed to their namespace channel `socket.io#/#`: `PUBSUB SHARDNUMSUB` summed
 * over the servers (as the adapter's own serverCount() does; a server not owning the slot says 0).
 */
const shardedSubscribers: SubscriberCount = async (servers) => {
  const answers = await Promise.all(
    servers.map((server) => ask(server.port, ["PUBSUB", "SHARDNUMSUB", "socket.io#/#"])),
  );
  return answers.reduce((sum: number, answer) => sum + (Array.isArray(answer) ? Number(answer[1]) || 0 : 0), 0);
};

/** One command to one server; undefined when it fails (a server still starting, a MOVED). */
async function ask(port: number, command: [string, ...string[]]): Promise<unknown> {
  const client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    return await client.call(...command);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}
