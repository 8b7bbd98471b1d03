import { createAdapter } from "@socket.io/redis-adapter";
import type { Config } from "../config/schema";
import { createRedisConnections, whenReady } from "../cluster/redis-connections";
import { RedisBroadcaster } from "../history/redis-broadcaster";
import { RedisPresenceStore } from "../presence/redis-presence-store";
import { RedisIdempotencyStore } from "./redis-idempotency-store";
import { RedisRateLimiter } from "./redis-rate-limiter";
import type { SharedState } from "./shared-state";

/** The self-published canary: how often, and how stale it may get before /health says degraded. */
const CANARY_EVERY_MS = 500;
const CANARY_STALE_MS = 2000;
const READY_TIMEOUT_MS = 10_000;

export interface RedisStateOptions {
  onError: (error: unknown) => void;
}

/**
 * Cluster mode: every shared part in Redis. The bus delivers broadcasts to every node; the
 * Socket.IO redis-adapter carries the cluster-wide socket requests (fetchSockets, kicks).
 */
export async function createRedisState(config: Config, options: RedisStateOptions): Promise<SharedState> {
  const prefix = config.redisKeyPrefix;
  const target = { url: config.redisUrl, clusterNodes: config.redisClusterNodes };
  const state = createRedisConnections(target, `realtime:${config.nodeId}`);
  const adapterSubscriber = createRedisConnections(target, `realtime:${config.nodeId}:adapter`);
  const { commands, subscriber } = state;

  let lastCanary = 0;
  const canaryChannel = `~canary.${config.nodeId}`;
  const broadcaster = new RedisBroadcaster({
    commands,
    subscriber,
    prefix,
    historySize: config.historySize,
    historyTtlS: config.historyTtlS,
    onInternal: (channel) => {
      if (channel === canaryChannel) lastCanary = Date.now();
    },
  });
  const presence = new RedisPresenceStore({
    redis: commands,
    prefix,
    nodeId: config.nodeId,
    nodeTtlMs: config.nodeTtlMs,
    graceMs: config.presenceGraceMs,
    onError: options.onError,
  });

  try {
    await Promise.all([whenReady(commands, READY_TIMEOUT_MS), whenReady(subscriber, READY_TIMEOUT_MS)]);
    await broadcaster.start();
  } catch (error) {
    await Promise.all([state.close(), adapterSubscriber.close()]);
    throw error;
  }

  // A subscriber can look connected while delivering nothing: only a message that makes the
  // whole round trip proves the path works.
  const sendCanary = (): Promise<void> => broadcaster.signal({ channel: canaryChannel, event: "canary", data: {} });
  const canary = setInterval(() => sendCanary().catch(() => undefined), CANARY_EVERY_MS);
  canary.unref();
  await sendCanary();
  presence.startHeartbeat();

  return {
    broadcaster,
    history: broadcaster,
    presence,
    idempotency: new RedisIdempotencyStore(commands, prefix),
    rateLimiter: new RedisRateLimiter(commands, prefix),
    health: {
      mode: "redis",
      state: () =>
        commands.status === "ready" && subscriber.status === "ready" && Date.now() - lastCanary < CANARY_STALE_MS
          ? "ok"
          : "down",
    },
    adapter: createAdapter(commands, adapterSubscriber.subscriber, { key: `${prefix}sio`, requestsTimeout: 2000 }),
    async close() {
      clearInterval(canary);
      await presence.stop();
      await Promise.all([state.close(), adapterSubscriber.close()]);
    },
  };
}
