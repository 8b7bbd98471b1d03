import { randomBytes } from "node:crypto";
import type { EchoMember } from "@mechamap/protocol";
import type { ChannelMemberLeft, ChannelMembers } from "../core/ports";
import { KeySpace, MEMBER_LEAVE_BUCKETS } from "../cluster/key-space";
import { inOneWrite } from "../cluster/one-write";
import { RedisScript } from "../cluster/redis-script";
import { NodeHeartbeat } from "./node-heartbeat";
import type { RedisPresenceOptions } from "./redis-presence-store";

/*
 * Presence-channel members (Echo), the same model as redis-presence-store.ts one level down. Every
 * key of a channel carries the channel's hash tag (key-space.ts, `channelMembers`), so each
 * transition (first join, leave, a dead node's reaping, a grace that ran out) is one script in the
 * channel's slot, on a single Redis or a Redis Cluster alike, and exactly one node sees it. Scripts
 * get `<p>{<channel>}:m` as KEYS[1] (it routes the call) and as ARGV[1] (the stem of the others).
 *
 * What spans channels is indexed apart, in keys of its own slot, written beside the scripts:
 *   <p>{ml<n>}:leaving       ZSET  entry → due   a channel has a leave due then (sweeps page over n)
 *   <p>{mn:<node>}:channels  SET   channel       where a node counts sockets (for its reaping)
 * An index entry is written before the script that makes a leave and again after it (each entry is
 * unique, `[channel, nonce]`), and removed only by the sweep that ran the channel's take after it:
 * a leave is never left without an entry, whichever node dies between two commands. A stale entry
 * (the user came back) costs one take that finds nothing.
 */

const JOIN = new RedisScript(`
local m, user, socket, node, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local known = redis.call('HEXISTS', m, user)
redis.call('HSET', m .. ':s:' .. user, socket, node)
redis.call('SADD', m .. ':n:' .. node, user .. '|' .. socket)
redis.call('HSET', m, user, member)
redis.call('ZREM', m .. ':p', user)
return 1 - known
`);

/** 0: unknown socket; 1: counted out; 2: the user's last socket there, so a leave is pending. */
const LEAVE = new RedisScript(`
local m, user, socket, node, leaveAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HDEL', m .. ':s:' .. user, socket) == 0 then return 0 end
redis.call('SREM', m .. ':n:' .. node, user .. '|' .. socket)
if redis.call('HLEN', m .. ':s:' .. user) == 0 and redis.call('HEXISTS', m, user) == 1 then
  redis.call('ZADD', m .. ':p', leaveAt, user)
  return 2
end
return 1
`);

/**
 * The dead node's (ARGV[3]) sockets in the channel leave, its users with none left enter the grace
 * (until ARGV[2]); its set goes in the same step, so a second reaper finds nothing. Returns how
 * many users entered the grace.
 */
const REAP = new RedisScript(`
local m, due, set = ARGV[1], ARGV[2], ARGV[1] .. ':n:' .. ARGV[3]
local pending = 0
for _, entry in ipairs(redis.call('SMEMBERS', set)) do
  local cut = string.find(entry, '|[^|]*$')
  local user = string.sub(entry, 1, cut - 1)
  redis.call('HDEL', m .. ':s:' .. user, string.sub(entry, cut + 1))
  if redis.call('HLEN', m .. ':s:' .. user) == 0 and redis.call('HEXISTS', m, user) == 1 then
    redis.call('ZADD', m .. ':p', 'NX', due, user)
    pending = pending + 1
  end
end
redis.call('DEL', set)
return pending
`);

/** Takes every member of the channel whose grace ran out by ARGV[2]: the script that takes one is the only one. */
const TAKE = new RedisScript(`
local m, now = ARGV[1], ARGV[2]
local left = {}
for _, user in ipairs(redis.call('ZRANGEBYSCORE', m .. ':p', '-inf', now)) do
  redis.call('ZREM', m .. ':p', user)
  if redis.call('HLEN', m .. ':s:' .. user) == 0 then
    local member = redis.call('HGET', m, user)
    redis.call('HDEL', m, user)
    if member then table.insert(left, member) end
  end
end
return left
`);

/** Due entries read per leave bucket and round; a sweep reads at most MAX_ROUNDS of them. */
const PAGE = 200;
const MAX_ROUNDS = 10;
/** Held channels whose memberships one heartbeat checks (one SCARD each). */
const CHECKED_PER_BEAT = 256;
const BUCKETS = Array.from({ length: MEMBER_LEAVE_BUCKETS }, (_, bucket) => bucket);

/** The same knobs as user presence: one heartbeat period, one grace, one clock, one heartbeat. */
export type RedisChannelMembersOptions = RedisPresenceOptions;

/** Cluster-wide presence-channel members in Redis; a dead node's memberships are reaped through the heartbeat. */
export class RedisChannelMembers implements ChannelMembers {
  /** This node's memberships: channel → "<user>|<socket>" → member, to register again if Redis lost them. */
  private readonly local = new Map<string, Map<string, EchoMember>>();
  private readonly keys: KeySpace;
  private readonly heartbeat: NodeHeartbeat;
  /** Makes index entries unique: this process's, then a counter. */
  private readonly nonceStem = `${randomBytes(6).toString("base64url")}.`;
  private nonces = 0;
  /** Where the next heartbeat's check of the held channels starts. */
  private checkFrom = 0;

  constructor(private readonly options: RedisChannelMembersOptions) {
    this.keys = new KeySpace(options.prefix);
    this.heartbeat = options.heartbeat ?? new NodeHeartbeat(options);
    this.heartbeat.add({ check: () => this.check(), reap: (dead, now) => this.reap(dead, now) });
  }

  async join(channel: string, member: EchoMember, socketId: string, _now: number): Promise<boolean> {
    const userId = String(member.user_id);
    const mine = this.local.get(channel) ?? new Map<string, EchoMember>();
    this.local.set(channel, mine);
    mine.set(`${userId}|${socketId}`, member);
    // Indexed first: if this node dies right after the join, its reaping finds the channel.
    await this.options.redis.sadd(this.keys.nodeChannels(this.options.nodeId), channel);
    return (await this.register(channel, userId, socketId, member)) === 1;
  }

  async leave(channel: string, userId: string, socketId: string, leaveAt: number): Promise<void> {
    const mine = this.local.get(channel);
    mine?.delete(`${userId}|${socketId}`);
    if (mine?.size === 0) this.local.delete(channel);
    const [, result] = await Promise.all([
      this.indexLeave(channel, leaveAt),
      this.run(LEAVE, channel, [userId, socketId, this.options.nodeId, leaveAt]),
    ]);
    if (result === 2) await this.indexLeave(channel, leaveAt);
    // Only this node writes its own set, and only while it holds nothing there (checked now, after the await).
    if (!this.local.has(channel)) await this.options.redis.srem(this.keys.nodeChannels(this.options.nodeId), channel);
  }

  /** Reaps the dead nodes first (node-heartbeat.ts), then takes, bucket by bucket, the channels with a leave due. */
  async takeExpired(now: number): Promise<ChannelMemberLeft[]> {
    await this.heartbeat.reapDead(now);
    // Each bucket's first read is sent as its call starts: all 16 leave in one write per Redis.
    const perBucket = await Promise.all(
      inOneWrite(this.options.redis, () => BUCKETS.map((bucket) => this.takeFromBucket(bucket, now))),
    );
    return perBucket.flat();
  }

  async list(channel: string): Promise<EchoMember[]> {
    const values = await this.options.redis.hvals(this.keys.channelMembers(channel));
    return values.map(parseMember).filter((member): member is EchoMember => member !== undefined);
  }

  /** Starts the node's heartbeat (a no-op when another store of the node started it). */
  startHeartbeat(): void {
    this.heartbeat.start();
  }

  /** Stops the heartbeat and marks this node dead at once: another node's next sweep reaps what it still held. */
  stop(): Promise<void> {
    return this.heartbeat.stop();
  }

  /**
   * Pages through the bucket's due entries; each channel named is taken once per page, and its
   * entries are removed only once its take succeeded (taken entries leave the index, so the next
   * page starts at the first again). A channel whose take fails is reported and left to the next
   * sweep, and what the others gave is still returned: their members are gone from Redis already.
   */
  private async takeFromBucket(bucket: number, now: number): Promise<ChannelMemberLeft[]> {
    const { redis, onError } = this.options;
    const key = this.keys.memberLeaves(bucket);
    const left: ChannelMemberLeft[] = [];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entries = await redis.zrangebyscore(key, "-inf", now, "LIMIT", 0, PAGE).catch((error: unknown) => {
        onError(error);
        return [];
      });
      const byChannel = new Map<string, string[]>();
      const unreadable: string[] = [];
      for (const entry of entries) {
        const channel = channelOf(entry);
        if (channel === undefined) unreadable.push(entry);
        else byChannel.set(channel, [...(byChannel.get(channel) ?? []), entry]);
      }
      // Not written by this store: dropped, or the bucket's sweep would stop at it for ever.
      if (unreadable.length > 0) await redis.zrem(key, ...unreadable).catch(onError);
      const failed = await Promise.all(
        [...byChannel].map(async ([channel, named]) => {
          try {
            const taken = (await this.run(TAKE, channel, [now])) as string[];
            for (const member of taken.map(parseMember)) if (member) left.push({ channel, member });
            await redis.zrem(key, ...named);
            return false;
          } catch (error) {
            onError(error);
            return true;
          }
        }),
      );
      if (entries.length < PAGE || failed.includes(true)) break;
    }
    return left;
  }

  /**
   * For each dead node, channel by channel (its set of channels paged with SSCAN): the sockets
   * leave and their users enter the grace, indexed before and after as a leave is.
   */
  private async reap(dead: string[], now: number): Promise<void> {
    const { redis, graceMs } = this.options;
    const due = now + graceMs;
    for (const node of dead) {
      const key = this.keys.nodeChannels(node);
      let cursor = "0";
      do {
        const [next, channels] = await redis.sscan(key, cursor, "COUNT", PAGE);
        cursor = next;
        await Promise.all(
          channels.map(async (channel) => {
            await this.indexLeave(channel, due);
            if (Number(await this.run(REAP, channel, [due, node])) > 0) await this.indexLeave(channel, due);
          }),
        );
      } while (cursor !== "0");
      await redis.del(key);
    }
  }

  /**
   * Registers this node's memberships again where Redis lost them: per channel, when Redis counts
   * fewer or more of its sockets there than it has (a failover that lost writes, a Redis restart).
   * At most CHECKED_PER_BEAT channels a beat, in turn, so a node in many channels stays cheap.
   */
  private async check(): Promise<void> {
    const { redis, nodeId } = this.options;
    const held = [...this.local];
    // A bounded turn of the channels per beat: every channel is checked within held / CHECKED_PER_BEAT beats.
    const from = held.length === 0 ? 0 : this.checkFrom % held.length;
    const channels = Array.from(
      { length: Math.min(held.length, CHECKED_PER_BEAT) },
      (_, i) => held[(from + i) % held.length],
    );
    this.checkFrom = from + channels.length;
    const [indexed, ...counts] = await Promise.all([
      redis.scard(this.keys.nodeChannels(nodeId)),
      ...channels.map(([channel]) => redis.scard(`${this.keys.channelMembers(channel)}:n:${nodeId}`)),
    ]);
    if (indexed < held.length) {
      await redis.sadd(this.keys.nodeChannels(nodeId), ...held.map(([channel]) => channel));
    }
    await Promise.all(
      channels.map(async ([channel, mine], i) => {
        if (counts[i] === mine.size) return;
        await Promise.all(
          [...mine].map(([key, member]) => {
            const socketId = key.slice(key.lastIndexOf("|") + 1);
            return this.register(channel, String(member.user_id), socketId, member);
          }),
        );
      }),
    );
  }

  private register(channel: string, userId: string, socketId: string, member: EchoMember): Promise<unknown> {
    return this.run(JOIN, channel, [userId, socketId, this.options.nodeId, JSON.stringify(member)]);
  }

  /** A unique entry: a channel has a leave due at `due`. */
  private async indexLeave(channel: string, due: number): Promise<void> {
    const entry = JSON.stringify([channel, `${this.nonceStem}${this.nonces++}`]);
    await this.options.redis.zadd(this.keys.memberLeaves(this.keys.memberLeavesBucket(channel)), due, entry);
  }

  private run(script: RedisScript, channel: string, args: Array<string | number>): Promise<unknown> {
    const stem = this.keys.channelMembers(channel);
    return script.run(this.options.redis, [stem], [stem, ...args]);
  }
}

/** The channel an index entry names (entries are JSON `[channel, nonce]`); undefined for anything else. */
function channelOf(entry: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(entry);
    return Array.isArray(parsed) && typeof parsed[0] === "string" ? parsed[0] : undefined;
  } catch {
    return undefined;
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
