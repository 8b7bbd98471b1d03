import { createAdapter } from "@socket.io/redis-adapter";
import { RedisScript } from "../cluster/redis-script";
import type { Config } from "../config/schema";
import type { Clock, Scheduler } from "../core/ports";
import { assertRedisVersion, createRedisConnections, whenReady } from "../cluster/redis-connections";
import { ReplicaWatch } from "../cluster/replica-watch";
import { RedisBroadcaster } from "../history/redis-broadcaster";
import { RedisPresenceStore } from "../presence/redis-presence-store";
import { RedisChannelMembers } from "../presence/redis-channel-members";
import { NodeHeartbeat } from "../presence/node-heartbeat";
import { RedisLaravelInbox } from "../ingest/redis-laravel-inbox";
import { BatchedRateLimiter } from "./batched-rate-limiter";
import { RedisRateLimiter } from "./redis-rate-limiter";
import type { SharedState } from "./shared-state";

const READY_TIMEOUT_MS = 10_000;

export interface RedisStateOptions {
  onError: (error: unknown) => void;
  /** The node's time (app.ts): presence heartbeats and sweeps must agree on it. */
  clock?: Clock;
  scheduler?: Scheduler;
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
  // Laravel's broadcasts come on a subscriber of their own (PSUBSCRIBE), apart from the bus.
  const laravel = config.echoCompat ? createRedisConnections(target, `realtime:${config.nodeId}:laravel`) : undefined;

  // The scripts on every replica too: a failover must not promote a master without them.
  const replicaScripts = RedisScript.followReplicas(commands);
  const replicas = new ReplicaWatch(commands, options.scheduler, replicaScripts.update);
  const broadcaster = new RedisBroadcaster({
    commands,
    subscriber,
    prefix,
    historySize: config.historySize,
    historyTtlS: config.historyTtlS,
    nodeId: config.nodeId,
    clock: options.clock,
    scheduler: options.scheduler,
    lingerMs: config.subscriptionLingerMs,
    replicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
  });
  // User presence and Echo's presence channels share one node heartbeat (a dead node is reaped in
  // both before it is forgotten), their grace and their clock.
  const heartbeatOptions = {
    redis: commands,
    prefix,
    nodeId: config.nodeId,
    nodeTtlMs: config.nodeTtlMs,
    onError: options.onError,
    clock: options.clock,
    scheduler: options.scheduler,
  };
  const presenceOptions = {
    ...heartbeatOptions,
    graceMs: config.presenceGraceMs,
    heartbeat: new NodeHeartbeat(heartbeatOptions),
  };
  const presence = new RedisPresenceStore(presenceOptions);
  const channelMembers = new RedisChannelMembers(presenceOptions);
  const laravelInbox =
    laravel &&
    new RedisLaravelInbox({
      commands,
      subscriber: laravel.subscriber,
      keyPrefix: prefix,
      laravelPrefixes: config.echoRedisPrefix,
      nodeId: config.nodeId,
      onError: options.onError,
    });
  const closeConnections = async (): Promise<void> => {
    replicaScripts.close();
    await Promise.all([state.close(), adapterSubscriber.close(), laravel?.close()]);
  };

  try {
    await Promise.all([whenReady(commands, READY_TIMEOUT_MS), whenReady(subscriber, READY_TIMEOUT_MS)]);
    await assertRedisVersion(commands);
    await replicas.start();
    await broadcaster.start();
    await RedisScript.keepLoaded(commands);
    await presenceOptions.heartbeat.reapEarlierSelf();
  } catch (error) {
    await closeConnections();
    throw error;
  }

  presenceOptions.heartbeat.start();
  // No Redis round trip per broadcast call for the API key's limit (see BatchedRateLimiter).
  const apiRateLimiter = new BatchedRateLimiter(commands, prefix, options.clock, options.scheduler);

  return {
    broadcaster,
    history: broadcaster,
    interest: broadcaster,
    presence,
    channelMembers,
    ...(laravelInbox ? { laravelInbox } : {}),
    rateLimiter: new RedisRateLimiter(commands, prefix, options.clock),
    apiRateLimiter,
    health: {
      mode: "redis",
      state: () => (commands.status === "ready" && broadcaster.isFlowing() ? "ok" : "down"),
      acceptsBroadcasts: () => commands.status === "ready",
      durability: () => replicas.durability(),
      mastersWithoutReplica: () => replicas.mastersWithoutReplica(),
    },
    adapter: createAdapter(commands, adapterSubscriber.subscriber, { key: `${prefix}sio`, requestsTimeout: 2000 }),
    async close() {
      apiRateLimiter.stop();
      broadcaster.stop();
      replicas.stop();
      await laravelInbox?.stop();
      await presenceOptions.heartbeat.stop();
      await closeConnections();
    },
  };
}
