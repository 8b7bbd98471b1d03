/**
 * The peer for many small rooms: bare socket.io 4.8 + @socket.io/redis-adapter's sharded adapter
 * (Redis ≥ 7, SPUBLISH / SSUBSCRIBE) in `dynamic` mode: a node SSUBSCRIBEs a room's own shard channel
 * while the room exists on it, so it reads only the events of rooms it holds. Same server otherwise
 * (socketio-node.ts). Run as a program: PORT, API_KEY, JWT_SECRET, and REDIS_PORT or
 * REDIS_CLUSTER_NODES.
 */
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { runSocketIoNode } from "./socketio-node";
import { redisClientsFromEnv } from "./socketio-redis-clients";

/** The adapter's name for room R's channel in namespace "/" (sharded-adapter.js: dynamicChannel). */
const roomShardChannel = (room: string): string => `socket.io#/#${room}#`;

const redis = redisClientsFromEnv({ sharded: true });
runSocketIoNode({
  adapter: createShardedAdapter(redis.pub, redis.sub, { subscriptionMode: "dynamic" }),
  // The adapter sends a new room's SSUBSCRIBE without waiting for it. Sending the same (idempotent)
  // SSUBSCRIBE on the same connection and awaiting it acknowledges `subscribe` only once the room's
  // subscription is in Redis, as ours does; otherwise a bench's first events could precede it.
  afterJoin: (room, created) => (created ? redis.sub.ssubscribe(roomShardChannel(room)) : undefined),
  close: redis.close,
});
