import { createAdapter } from "@socket.io/redis-adapter";
import type { Config } from "../config/schema";
import { assertRedisVersion, createRedisConnections, whenReady } from "../cluster/redis-connections";
import { ReplicaWatch } from "../cluster/replica-watch";
import { RedisBroadcaster } from "../history/redis-broadcaster";
import { RedisPresenceStore } from "../presence/redis-presence-store";
import { RedisRateLimiter } from "./redis-rate-limiter";
import type { SharedState } from "./shared-state";

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

  const replicas = new ReplicaWatch(commands);
  const broadcaster = new RedisBroadcaster({
    commands,
    subscriber,
    prefix,
    historySize: config.historySize,
    historyTtlS: config.historyTtlS,
    nodeId: config.nodeId,
    lingerMs: config.subscriptionLingerMs,
    replicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
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
    await assertRedisVersion(commands);
    await replicas.start();
    await broadcaster.start();
  } catch (error) {
    await Promise.all([state.close(), adapterSubscriber.close()]);
    throw error;
  }

  presence.startHeartbeat();

  return {
    broadcaster,
    history: broadcaster,
    interest: broadcaster,
    presence,
    rateLimiter: new RedisRateLimiter(commands, prefix),
    health: {
      mode: "redis",
      state: () => (commands.status === "ready" && broadcaster.isFlowing() ? "ok" : "down"),
      durability: () => replicas.durability(),
      mastersWithoutReplica: () => replicas.mastersWithoutReplica(),
    },
    adapter: createAdapter(commands, adapterSubscriber.subscriber, { key: `${prefix}sio`, requestsTimeout: 2000 }),
    async close() {
      broadcaster.stop();
      replicas.stop();
      await presence.stop();
      await Promise.all([state.close(), adapterSubscriber.close()]);
    },
  };
}
