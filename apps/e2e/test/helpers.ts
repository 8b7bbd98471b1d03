import { Agent } from "node:http";
import jwt from "jsonwebtoken";
import { io, Socket } from "socket.io-client";
import { startCluster } from "@mechamap/cluster-runner";
import type { Cluster, ClusterOptions } from "@mechamap/cluster-runner";
import { startRedis, TestRedis } from "../../realtime/test/helpers/redis";

const clusters: Cluster[] = [];
const sockets: Socket[] = [];

afterAll(async () => {
  for (const socket of sockets.splice(0)) socket.disconnect();
  await Promise.all(clusters.splice(0).map((cluster) => cluster.stop()));
});

export async function cluster(options: ClusterOptions): Promise<Cluster> {
  const started = await startCluster(options);
  clusters.push(started);
  return started;
}

export const tokenFor = (secret: string, userId: number | string): string =>
  jwt.sign({ sub: String(userId) }, secret, { algorithm: "HS256", expiresIn: 3600 });

export interface Seen {
  id: string;
  offset: string;
  channel: string;
  data: Record<string, unknown>;
}

/**
 * A stock socket.io-client (default reconnection) from its own loopback source address, so that
 * nginx's address hash spreads clients over the nodes. It keeps the last offset per channel and
 * hands it back on every reconnect (handshake `auth.since`, `subscribe` with `since`), as the
 * documented client does.
 */
export function forumClient(
  url: string,
  options: { secret: string; userId: number; source: string; transport: "websocket" | "polling"; threads?: number[] },
) {
  const seen: Seen[] = [];
  const last = new Map<string, string>();
  const agent = new Agent({ localAddress: options.source, keepAlive: true });
  const socket = io(url, {
    transports: [options.transport],
    upgrade: false,
    agent: agent as unknown as string,
    localAddress: options.source,
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
    auth: (send: (auth: object) => void) =>
      send({ token: tokenFor(options.secret, options.userId), since: Object.fromEntries(last) }),
  } as Parameters<typeof io>[1]);
  sockets.push(socket);
  socket.onAny(
    (_event: string, data: Record<string, unknown>, meta?: { id: string; offset: string; channel: string }) => {
      if (!meta?.offset) return;
      seen.push({ id: meta.id, offset: meta.offset, channel: meta.channel, data });
      last.set(meta.channel, meta.offset);
    },
  );
  /** Connected and subscribed to every thread since the last (re)connect. */
  let settled = false;
  const timeline: string[] = [];
  socket.on("disconnect", (reason) => {
    settled = false;
    timeline.push(`${Date.now()} disconnect ${reason}`);
  });
  socket.on("connect_error", (error) => timeline.push(`${Date.now()} connect_error ${error.message}`));
  socket.on("connect", () => timeline.push(`${Date.now()} connect`));
  const ready = new Promise<void>((resolve) => {
    socket.on("connect", () => {
      const joins = (options.threads ?? []).map((thread) =>
        socket.timeout(5000).emitWithAck("subscribe", {
          thread_id: thread,
          ...(last.has(`thread.${thread}`) ? { since: last.get(`thread.${thread}`) } : {}),
        }),
      );
      void Promise.all(joins).then(
        (acks) => {
          timeline.push(`${Date.now()} subscribed ${JSON.stringify(acks)}`);
          settled = socket.connected;
          resolve();
        },
        () => socket.disconnect().connect(),
      );
    });
  });
  return { socket, seen, ready, settled: () => settled, timeline };
}

export async function until(predicate: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function post(url: string, apiKey: string, body: object): Promise<number> {
  try {
    const response = await fetch(`${url}/api/broadcast`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-websocket-api-key": apiKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Connections per node, read from each node's own /health. */
export async function spread(c: Cluster): Promise<number[]> {
  return Promise.all(
    c.nodes.map(async (node) => {
      try {
        const health = (await (await fetch(`${node.url}/health`)).json()) as { connections: number };
        return health.connections;
      } catch {
        return 0;
      }
    }),
  );
}

/** A private redis-server that a test can stop and start again (the node's own test helper), stopped after the file. */
export async function ownRedis(): Promise<TestRedis> {
  const redis = await startRedis();
  redisServers.push(redis);
  return redis;
}

const redisServers: TestRedis[] = [];
afterAll(async () => {
  await Promise.all(redisServers.splice(0).map((redis) => redis.stop()));
});
