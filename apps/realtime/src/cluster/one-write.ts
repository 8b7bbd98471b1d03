import { Cluster } from "ioredis";
import type { Socket } from "node:net";
import type { RedisClient } from "./redis-connections";

/**
 * Runs `issue` with the client's connections corked, so that the commands it sends synchronously
 * leave in one write per server, not one each. The command connection is not auto-pipelined (see
 * redis-connections.ts); this is its batching, for the calls that send many commands at once: a
 * broadcast to many channels, a presence lookup of many users. Commands `issue` leaves for later
 * (a call the ScriptLane holds) are not corked: they go out on their own when sent.
 */
export function inOneWrite<T>(redis: RedisClient, issue: () => T): T {
  const servers = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const corked: Socket[] = [];
  for (const server of servers) {
    const stream = server.stream as Socket | undefined;
    if (!stream?.writable) continue;
    stream.cork();
    corked.push(stream);
  }
  try {
    return issue();
  } finally {
    for (const stream of corked) stream.uncork();
  }
}
