import { systemClock } from "../core/ports";
import type { Clock, OnlinePage, PresenceStore, Scheduler, UserPresence } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";
import { KeySpace, PRESENCE_BUCKETS } from "../cluster/key-space";
import { inOneWrite } from "../cluster/one-write";
import { RedisScript } from "../cluster/redis-script";
import { NodeHeartbeat } from "./node-heartbeat";

/*
 * Users are spread over PRESENCE_BUCKETS buckets; a bucket's keys share one hash tag, so on a
 * Redis Cluster each transition is still one script in one slot, and the buckets spread presence
 * over the masters. Keys (after the bucket's stem `<prefix>{pb<n>}`):
 *   :c:<user>     HASH socket → node     the user's sockets anywhere in the cluster
 *   :online       ZSET (score 0)         the bucket's online users, in id order for cursors
 *   :pending      ZSET user → offlineAt  users with no socket, waiting out the grace
 *   :n:<node>     SET  "user|socket"     a node's sockets in this bucket, to reap them when it dies
 *   :seen:<user>  STRING ms              last seen, kept 30 days
 * and, outside the buckets, the node heartbeats (node-heartbeat.ts). Every transition is one script,
 * so exactly one node sees each 0→1 and each expiry. Scripts get a key of their bucket as KEYS[1]
 * (it routes the call to the bucket's master) and the stem as ARGV[1].
 */

/** Holds a place unless the user's sockets and places already reach the limit. */
const RESERVE = new RedisScript(`
local b, user, socket, limit, now, untilMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local places = b .. ':r:' .. user
redis.call('ZREMRANGEBYSCORE', places, '-inf', now)
if redis.call('HLEN', b .. ':c:' .. user) + redis.call('ZCARD', places) >= limit then return 0 end
redis.call('ZADD', places, untilMs, socket)
redis.call('PEXPIRE', places, math.max(1, untilMs - now))
return 1
`);

const CONNECT = new RedisScript(`
local b, user, socket, node, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('ZREM', b .. ':r:' .. user, socket)
redis.call('HSET', b .. ':c:' .. user, socket, node)
redis.call('SADD', b .. ':n:' .. node, user .. '|' .. socket)
redis.call('SET', b .. ':seen:' .. user, now, 'EX', 2592000)
redis.call('ZREM', b .. ':pending', user)
return redis.call('ZADD', b .. ':online', 0, user)
`);

const DISCONNECT = new RedisScript(`
local b, user, socket, node, offlineAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HDEL', b .. ':c:' .. user, socket) == 0 then return 0 end
redis.call('SREM', b .. ':n:' .. node, user .. '|' .. socket)
if redis.call('HLEN', b .. ':c:' .. user) == 0 and redis.call('ZSCORE', b .. ':online', user) then
  redis.call('ZADD', b .. ':pending', offlineAt, user)
end
return 1
`);

/**
 * In one bucket: reaps the sockets of the dead nodes (ARGV[4..]) into the grace. Reaping deletes
 * the dead node's set, so a second node doing the same finds nothing left.
 */
const REAP = new RedisScript(`
local b, now, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for k = 4, #ARGV do
  for _, entry in ipairs(redis.call('SMEMBERS', b .. ':n:' .. ARGV[k])) do
    local bar = string.find(entry, '|', 1, true)
    local user = string.sub(entry, 1, bar - 1)
    redis.call('HDEL', b .. ':c:' .. user, string.sub(entry, bar + 1))
    if redis.call('HLEN', b .. ':c:' .. user) == 0 and redis.call('ZSCORE', b .. ':online', user) then
      redis.call('ZADD', b .. ':pending', 'NX', now + grace, user)
    end
  end
  redis.call('DEL', b .. ':n:' .. ARGV[k])
end
return 1
`);

/** In one bucket: takes the users whose grace ran out. */
const TAKE_EXPIRED = new RedisScript(`
local b, now = ARGV[1], tonumber(ARGV[2])
local expired = {}
for _, user in ipairs(redis.call('ZRANGEBYSCORE', b .. ':pending', '-inf', now)) do
  redis.call('ZREM', b .. ':pending', user)
  if redis.call('HLEN', b .. ':c:' .. user) == 0 then
    redis.call('ZREM', b .. ':online', user)
    redis.call('SET', b .. ':seen:' .. user, now, 'EX', 2592000)
    table.insert(expired, user)
  end
end
return expired
`);

const BUCKETS = Array.from({ length: PRESENCE_BUCKETS }, (_, bucket) => bucket);

export interface RedisPresenceOptions {
  redis: RedisClient;
  prefix: string;
  nodeId: string;
  nodeTtlMs: number;
  graceMs: number;
  onError: (error: unknown) => void;
  /** The heartbeat's time, which must be the sweeps' (`takeExpired(now)`) time. */
  clock?: Clock;
  scheduler?: Scheduler;
  /**
   * The node's heartbeat, shared with the other stores of the node (redis-state.ts); without one
   * the store beats on its own (tests of one store).
   */
  heartbeat?: NodeHeartbeat;
}

/** Cluster-wide presence in Redis, with per-node heartbeats so a dead node's sockets are reaped. */
export class RedisPresenceStore implements PresenceStore {
  /** This node's own sockets, to register again if Redis comes back without them. */
  private readonly local = new Map<string, string>();
  private readonly clock: Clock;
  private readonly keys: KeySpace;
  private readonly heartbeat: NodeHeartbeat;

  constructor(private readonly options: RedisPresenceOptions) {
    this.clock = options.clock ?? systemClock;
    this.keys = new KeySpace(options.prefix);
    this.heartbeat = options.heartbeat ?? new NodeHeartbeat(options);
    this.heartbeat.add({ check: () => this.check(), reap: (dead, now) => this.reap(dead, now) });
  }

  async reserve(userId: string, socketId: string, limit: number, now: number, until: number): Promise<boolean> {
    return (await this.runFor(RESERVE, userId, [userId, socketId, limit, now, until])) === 1;
  }

  async connect(userId: string, socketId: string, now: number): Promise<boolean> {
    this.local.set(socketId, userId);
    const added = await this.runFor(CONNECT, userId, [userId, socketId, this.options.nodeId, now]);
    return added === 1;
  }

  async disconnect(userId: string, socketId: string, offlineAt: number): Promise<void> {
    this.local.delete(socketId);
    await this.runFor(DISCONNECT, userId, [userId, socketId, this.options.nodeId, offlineAt]);
  }

  /** Reaps the dead nodes first (node-heartbeat.ts), so that their sockets' users enter the grace. */
  async takeExpired(now: number): Promise<string[]> {
    await this.heartbeat.reapDead(now);
    const perBucket = await this.inEveryBucket(
      (bucket) => this.runIn(TAKE_EXPIRED, bucket, [now]) as Promise<string[]>,
    );
    return perBucket.flat();
  }

  /** Three reads per user, sent together (one write and one round trip per Redis: inOneWrite). */
  async lookup(userIds: string[]): Promise<Map<string, UserPresence>> {
    const { redis } = this.options;
    const found = new Map<string, UserPresence>();
    await Promise.all(
      inOneWrite(redis, () =>
        userIds.map(async (userId) => {
          const stem = this.keys.presence(this.keys.presenceBucket(userId));
          const [count, score, seen] = await Promise.all([
            redis.hlen(`${stem}:c:${userId}`),
            redis.zscore(`${stem}:online`, userId),
            redis.get(`${stem}:seen:${userId}`),
          ]);
          found.set(userId, {
            online: score !== null,
            connections: count,
            lastSeen: seen === null ? null : Number(seen),
          });
        }),
      ),
    );
    return new Map(userIds.map((userId) => [userId, found.get(userId) as UserPresence]));
  }

  /** Pages over every bucket: each gives its next `limit + 1` ids after the cursor, merged in id order. */
  async listOnline(limit: number, cursor: string | null): Promise<OnlinePage> {
    const { redis } = this.options;
    const pages = await this.inEveryBucket(async (bucket) => {
      const key = `${this.keys.presence(bucket)}:online`;
      const [count, page] = await Promise.all([
        redis.zcard(key),
        redis.zrangebylex(key, cursor === null ? "-" : `(${cursor}`, "+", "LIMIT", 0, limit + 1),
      ]);
      return { count, page };
    });
    // ZRANGEBYLEX orders by bytes; ids are ASCII, so JavaScript's code-unit order is the same.
    const merged = pages.flatMap(({ page }) => page).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const userIds = merged.slice(0, limit);
    return {
      count: pages.reduce((sum, { count }) => sum + count, 0),
      userIds,
      nextCursor: merged.length > limit ? userIds[userIds.length - 1] : null,
    };
  }

  /** Starts the node's heartbeat (a no-op when another store of the node started it). */
  startHeartbeat(): void {
    this.heartbeat.start();
  }

  /**
   * Stops the heartbeat and marks this node dead at once, so that any socket it still held (a drain
   * cut short) is reaped by the next sweep of another node instead of after NODE_TTL_MS.
   */
  stop(): Promise<void> {
    return this.heartbeat.stop();
  }

  /** In every bucket at once: the dead nodes' sockets enter the grace. */
  private async reap(dead: string[], now: number): Promise<void> {
    await this.inEveryBucket((bucket) => this.runIn(REAP, bucket, [now, this.options.graceMs, ...dead]));
  }

  /** Registers this node's sockets again when Redis holds fewer or more than it has. */
  private async check(): Promise<void> {
    const { redis, nodeId } = this.options;
    const counts = await this.inEveryBucket((bucket) => redis.scard(`${this.keys.presence(bucket)}:n:${nodeId}`));
    const held = counts.reduce((sum, count) => sum + count, 0);
    if (held !== this.local.size) await this.reregister();
  }

  private async reregister(): Promise<void> {
    const now = this.clock.now();
    await Promise.all(
      [...this.local].map(([socketId, userId]) =>
        this.runFor(CONNECT, userId, [userId, socketId, this.options.nodeId, now]),
      ),
    );
  }

  /** One call per bucket, their commands in one write per Redis: the sweeps run every second. */
  private inEveryBucket<T>(call: (bucket: number) => Promise<T>): Promise<T[]> {
    return Promise.all(inOneWrite(this.options.redis, () => BUCKETS.map(call)));
  }

  private runFor(script: RedisScript, userId: string, args: Array<string | number>): Promise<unknown> {
    return this.runIn(script, this.keys.presenceBucket(userId), args);
  }

  private runIn(script: RedisScript, bucket: number, args: Array<string | number>): Promise<unknown> {
    const stem = this.keys.presence(bucket);
    return script.run(this.options.redis, [`${stem}:pending`], [stem, ...args]);
  }
}
