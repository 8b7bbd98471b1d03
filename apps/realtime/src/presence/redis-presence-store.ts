import { systemClock, systemScheduler } from "../core/ports";
import type { Cancel, Clock, OnlinePage, PresenceStore, Scheduler, UserPresence } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";
import { RedisScript } from "../cluster/redis-script";

/*
 * Keys (after the prefix):
 *   p:c:{user}   HASH socket → node     the user's sockets anywhere in the cluster
 *   p:online     ZSET (score 0)         online users, in id order for cursors
 *   p:pending    ZSET user → offlineAt  users with no socket, waiting out the grace
 *   p:n:{node}   SET  "user|socket"     a node's sockets, to reap them when the node dies
 *   p:hb         ZSET node → last beat  node heartbeats
 *   p:seen:{user} STRING ms             last seen, kept 30 days
 *   p:r:{user}   ZSET socket → until   places held for handshakes in progress (MAX_CONNECTIONS_PER_USER)
 * Every transition is one script, so exactly one node sees each 0→1 and each expiry.
 */

/** Holds a place unless the user's sockets and places already reach the limit. */
const RESERVE = new RedisScript(`
local p, user, socket, limit, now, untilMs = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local places = p .. 'p:r:' .. user
redis.call('ZREMRANGEBYSCORE', places, '-inf', now)
if redis.call('HLEN', p .. 'p:c:' .. user) + redis.call('ZCARD', places) >= limit then return 0 end
redis.call('ZADD', places, untilMs, socket)
redis.call('PEXPIRE', places, math.max(1, untilMs - now))
return 1
`);

const CONNECT = new RedisScript(`
local p, user, socket, node, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
redis.call('ZREM', p .. 'p:r:' .. user, socket)
redis.call('HSET', p .. 'p:c:' .. user, socket, node)
redis.call('SADD', p .. 'p:n:' .. node, user .. '|' .. socket)
redis.call('SET', p .. 'p:seen:' .. user, now, 'EX', 2592000)
redis.call('ZREM', p .. 'p:pending', user)
return redis.call('ZADD', p .. 'p:online', 0, user)
`);

const DISCONNECT = new RedisScript(`
local p, user, socket, node, offlineAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HDEL', p .. 'p:c:' .. user, socket) == 0 then return 0 end
redis.call('SREM', p .. 'p:n:' .. node, user .. '|' .. socket)
if redis.call('HLEN', p .. 'p:c:' .. user) == 0 and redis.call('ZSCORE', p .. 'p:online', user) then
  redis.call('ZADD', p .. 'p:pending', offlineAt, user)
end
return 1
`);

/** Reaps nodes silent for longer than the TTL, then takes the users whose grace ran out. */
const TAKE_EXPIRED = new RedisScript(`
local p, now, ttl, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', p .. 'p:hb', '-inf', now - ttl)) do
  for _, entry in ipairs(redis.call('SMEMBERS', p .. 'p:n:' .. dead)) do
    local bar = string.find(entry, '|', 1, true)
    local user = string.sub(entry, 1, bar - 1)
    redis.call('HDEL', p .. 'p:c:' .. user, string.sub(entry, bar + 1))
    if redis.call('HLEN', p .. 'p:c:' .. user) == 0 and redis.call('ZSCORE', p .. 'p:online', user) then
      redis.call('ZADD', p .. 'p:pending', 'NX', now + grace, user)
    end
  end
  redis.call('DEL', p .. 'p:n:' .. dead)
  redis.call('ZREM', p .. 'p:hb', dead)
end
local expired = {}
for _, user in ipairs(redis.call('ZRANGEBYSCORE', p .. 'p:pending', '-inf', now)) do
  redis.call('ZREM', p .. 'p:pending', user)
  if redis.call('HLEN', p .. 'p:c:' .. user) == 0 then
    redis.call('ZREM', p .. 'p:online', user)
    redis.call('SET', p .. 'p:seen:' .. user, now, 'EX', 2592000)
    table.insert(expired, user)
  end
end
return expired
`);

/** Heartbeat; answers how many sockets Redis holds for this node, to notice a Redis that lost them. */
const HEARTBEAT = new RedisScript(`
redis.call('ZADD', ARGV[1] .. 'p:hb', ARGV[3], ARGV[2])
return redis.call('SCARD', ARGV[1] .. 'p:n:' .. ARGV[2])
`);

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
}

/** Cluster-wide presence in Redis, with per-node heartbeats so a dead node's sockets are reaped. */
export class RedisPresenceStore implements PresenceStore {
  /** This node's own sockets, to register again if Redis comes back without them. */
  private readonly local = new Map<string, string>();
  private stopBeating: Cancel = () => undefined;
  private readonly clock: Clock;

  constructor(private readonly options: RedisPresenceOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async reserve(userId: string, socketId: string, limit: number, now: number, until: number): Promise<boolean> {
    return (await this.run(RESERVE, [userId, socketId, limit, now, until])) === 1;
  }

  async connect(userId: string, socketId: string, now: number): Promise<boolean> {
    this.local.set(socketId, userId);
    const added = await this.run(CONNECT, [userId, socketId, this.options.nodeId, now]);
    return added === 1;
  }

  async disconnect(userId: string, socketId: string, offlineAt: number): Promise<void> {
    this.local.delete(socketId);
    await this.run(DISCONNECT, [userId, socketId, this.options.nodeId, offlineAt]);
  }

  async takeExpired(now: number): Promise<string[]> {
    const { nodeTtlMs, graceMs } = this.options;
    return (await this.run(TAKE_EXPIRED, [now, nodeTtlMs, graceMs])) as string[];
  }

  async lookup(userIds: string[]): Promise<Map<string, UserPresence>> {
    const { redis, prefix } = this.options;
    const pipeline = redis.pipeline();
    for (const userId of userIds) {
      pipeline.hlen(`${prefix}p:c:${userId}`);
      pipeline.zscore(`${prefix}p:online`, userId);
      pipeline.get(`${prefix}p:seen:${userId}`);
    }
    const replies = (await pipeline.exec()) ?? [];
    const found = new Map<string, UserPresence>();
    userIds.forEach((userId, index) => {
      const [[countError, count], [, score], [, seen]] = replies.slice(index * 3, index * 3 + 3);
      if (countError) throw countError;
      found.set(userId, {
        online: score !== null,
        connections: Number(count),
        lastSeen: seen === null ? null : Number(seen),
      });
    });
    return found;
  }

  async listOnline(limit: number, cursor: string | null): Promise<OnlinePage> {
    const { redis, prefix } = this.options;
    const key = `${prefix}p:online`;
    const [count, page] = await Promise.all([
      redis.zcard(key),
      redis.zrangebylex(key, cursor === null ? "-" : `(${cursor}`, "+", "LIMIT", 0, limit + 1),
    ]);
    const userIds = page.slice(0, limit);
    return { count, userIds, nextCursor: page.length > limit ? userIds[userIds.length - 1] : null };
  }

  /** Beats every third of NODE_TTL_MS; registers this node's sockets again when Redis lost them. */
  startHeartbeat(): void {
    const beat = async (): Promise<void> => {
      const held = Number(await this.run(HEARTBEAT, [this.options.nodeId, this.clock.now()]));
      if (held !== this.local.size) await this.reregister();
    };
    const every = Math.max(200, Math.floor(this.options.nodeTtlMs / 3));
    this.stopBeating = (this.options.scheduler ?? systemScheduler).every(every, () =>
      beat().catch(this.options.onError),
    );
    void beat().catch(this.options.onError);
  }

  /**
   * Stops beating and marks this node dead at once, so that any socket it still held (a drain
   * cut short) is reaped by the next sweep of another node instead of after NODE_TTL_MS.
   */
  async stop(): Promise<void> {
    this.stopBeating();
    const { redis, prefix, nodeId } = this.options;
    await redis.zadd(`${prefix}p:hb`, 0, nodeId).catch(() => undefined);
  }

  private async reregister(): Promise<void> {
    const now = this.clock.now();
    await Promise.all(
      [...this.local].map(([socketId, userId]) => this.run(CONNECT, [userId, socketId, this.options.nodeId, now])),
    );
  }

  private run(script: RedisScript, args: Array<string | number>): Promise<unknown> {
    return script.run(this.options.redis, [], [this.options.prefix, ...args]);
  }
}
