import type { EchoMember } from "@mechamap/protocol";
import { systemClock, systemScheduler } from "../core/ports";
import type { Cancel, ChannelMemberLeft, ChannelMembers } from "../core/ports";
import type { RedisPresenceOptions } from "./redis-presence-store";
import { RedisScript } from "../cluster/redis-script";

/*
 * Presence-channel members (Echo), the same model as redis-presence-store.ts one level down.
 * Keys (after the prefix; `cu` is "<channel>|<user>": channel names have no "|"):
 *   ep:s:{cu}      HASH socket → node       the user's sockets in the channel, anywhere in the cluster
 *   ep:m:{channel} HASH user → member JSON  members, including those waiting out the grace
 *   ep:pending     ZSET cu → leaveAt        members with no socket left
 *   ep:n:{node}    SET  "cu|socket"         a node's memberships, to reap them when the node dies
 *   ep:hb          ZSET node → last beat    this store's own heartbeats (reaping removes entries)
 * Every transition is one script, so exactly one node sees each first join and each leave.
 */

const JOIN = new RedisScript(`
local p, channel, user, socket, node, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local cu = channel .. '|' .. user
local known = redis.call('HEXISTS', p .. 'ep:m:' .. channel, user)
redis.call('HSET', p .. 'ep:s:' .. cu, socket, node)
redis.call('SADD', p .. 'ep:n:' .. node, cu .. '|' .. socket)
redis.call('HSET', p .. 'ep:m:' .. channel, user, member)
redis.call('ZREM', p .. 'ep:pending', cu)
return 1 - known
`);

const LEAVE = new RedisScript(`
local p, channel, user, socket, node, leaveAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local cu = channel .. '|' .. user
if redis.call('HDEL', p .. 'ep:s:' .. cu, socket) == 0 then return 0 end
redis.call('SREM', p .. 'ep:n:' .. node, cu .. '|' .. socket)
if redis.call('HLEN', p .. 'ep:s:' .. cu) == 0 then redis.call('ZADD', p .. 'ep:pending', leaveAt, cu) end
return 1
`);

/** Reaps nodes silent for longer than the TTL, then takes the memberships whose grace ran out. */
const TAKE_EXPIRED = new RedisScript(`
local p, now, ttl, grace = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', p .. 'ep:hb', '-inf', now - ttl)) do
  for _, entry in ipairs(redis.call('SMEMBERS', p .. 'ep:n:' .. dead)) do
    local cut = string.find(entry, '|[^|]*$')
    local cu = string.sub(entry, 1, cut - 1)
    redis.call('HDEL', p .. 'ep:s:' .. cu, string.sub(entry, cut + 1))
    if redis.call('HLEN', p .. 'ep:s:' .. cu) == 0 then redis.call('ZADD', p .. 'ep:pending', 'NX', now + grace, cu) end
  end
  redis.call('DEL', p .. 'ep:n:' .. dead)
  redis.call('ZREM', p .. 'ep:hb', dead)
end
local left = {}
for _, cu in ipairs(redis.call('ZRANGEBYSCORE', p .. 'ep:pending', '-inf', now)) do
  redis.call('ZREM', p .. 'ep:pending', cu)
  if redis.call('HLEN', p .. 'ep:s:' .. cu) == 0 then
    local bar = string.find(cu, '|', 1, true)
    local channel, user = string.sub(cu, 1, bar - 1), string.sub(cu, bar + 1)
    local member = redis.call('HGET', p .. 'ep:m:' .. channel, user)
    redis.call('HDEL', p .. 'ep:m:' .. channel, user)
    if member then
      table.insert(left, channel)
      table.insert(left, member)
    end
  end
end
return left
`);

const HEARTBEAT = new RedisScript(`
redis.call('ZADD', ARGV[1] .. 'ep:hb', ARGV[3], ARGV[2])
return redis.call('SCARD', ARGV[1] .. 'ep:n:' .. ARGV[2])
`);

/** The same knobs as user presence: one heartbeat period, one grace, one clock. */
export type RedisChannelMembersOptions = RedisPresenceOptions;

/** Cluster-wide presence-channel members in Redis, with heartbeats so a dead node's memberships are reaped. */
export class RedisChannelMembers implements ChannelMembers {
  /** This node's memberships ("<channel>|<user>|<socket>" → member), to register again if Redis lost them. */
  private readonly local = new Map<string, { channel: string; member: EchoMember; socketId: string }>();
  private stopBeating: Cancel = () => undefined;

  constructor(private readonly options: RedisChannelMembersOptions) {}

  async join(channel: string, member: EchoMember, socketId: string, _now: number): Promise<boolean> {
    const userId = String(member.user_id);
    this.local.set(`${channel}|${userId}|${socketId}`, { channel, member, socketId });
    const first = await this.run(JOIN, [channel, userId, socketId, this.options.nodeId, JSON.stringify(member)]);
    return first === 1;
  }

  async leave(channel: string, userId: string, socketId: string, leaveAt: number): Promise<void> {
    this.local.delete(`${channel}|${userId}|${socketId}`);
    await this.run(LEAVE, [channel, userId, socketId, this.options.nodeId, leaveAt]);
  }

  async takeExpired(now: number): Promise<ChannelMemberLeft[]> {
    const { nodeTtlMs, graceMs } = this.options;
    const flat = (await this.run(TAKE_EXPIRED, [now, nodeTtlMs, graceMs])) as string[];
    const left: ChannelMemberLeft[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const member = parseMember(flat[i + 1]);
      if (member) left.push({ channel: flat[i], member });
    }
    return left;
  }

  async list(channel: string): Promise<EchoMember[]> {
    const values = await this.options.redis.hvals(`${this.options.prefix}ep:m:${channel}`);
    return values.map(parseMember).filter((member): member is EchoMember => member !== undefined);
  }

  /** Beats every third of NODE_TTL_MS; registers this node's memberships again when Redis lost them. */
  startHeartbeat(): void {
    const beat = async (): Promise<void> => {
      const held = Number(await this.run(HEARTBEAT, [this.options.nodeId, (this.options.clock ?? systemClock).now()]));
      if (held !== this.local.size) await this.reregister();
    };
    const every = Math.max(200, Math.floor(this.options.nodeTtlMs / 3));
    this.stopBeating = (this.options.scheduler ?? systemScheduler).every(every, () =>
      beat().catch(this.options.onError),
    );
    void beat().catch(this.options.onError);
  }

  /** Stops beating and marks this node dead at once, so another node's next sweep reaps what it still held. */
  async stop(): Promise<void> {
    this.stopBeating();
    const { redis, prefix, nodeId } = this.options;
    await redis.zadd(`${prefix}ep:hb`, 0, nodeId).catch(() => undefined);
  }

  private async reregister(): Promise<void> {
    await Promise.all(
      [...this.local.values()].map(({ channel, member, socketId }) =>
        this.run(JOIN, [channel, String(member.user_id), socketId, this.options.nodeId, JSON.stringify(member)]),
      ),
    );
  }

  private run(script: RedisScript, args: Array<string | number>): Promise<unknown> {
    return script.run(this.options.redis, [], [this.options.prefix, ...args]);
  }
}

/** Members come back from Redis as the JSON this store wrote; anything else is skipped. */
function parseMember(text: string): EchoMember | undefined {
  try {
    const member = JSON.parse(text) as EchoMember;
    return typeof member === "object" && member !== null && "user_id" in member ? member : undefined;
  } catch {
    return undefined;
  }
}
