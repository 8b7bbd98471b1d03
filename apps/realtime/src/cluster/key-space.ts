/**
 * Where every Redis key and pub/sub channel lives. One layout for a single Redis and a Redis Cluster:
 * what one script touches shares a hash tag (`{...}`), so it is in one slot, and a script never
 * fails with CROSSSLOT. On a single Redis the tags are just part of the names.
 *
 *   <p>{<channel>}:h          STREAM   the channel's history; stream ids are its offsets
 *   <p>{<channel>}:i:<key>    STRING   offset of the channel's publish under an idempotency key
 *   <p>{<channel>}            shard channel of the channel's events (SPUBLISH / SSUBSCRIBE)
 *   <p>done:<key>             STRING   a broadcast to many channels under <key> was completed (first wins)
 *   <p>{pb<n>}:...            presence bucket n (users are spread over PRESENCE_BUCKETS buckets)
 *   <p>p:hb                   ZSET     node → last heartbeat
 *   <p>{<channel>}:m...       Echo presence-channel members, beside the channel's history
 *   <p>{ml<n>}:leaving        ZSET     leave bucket n: channels with a member leaving, and when
 *   <p>{mn:<node>}:channels   SET      the presence channels a node holds members of
 *   <p>rl:<key>:<window>      STRING   rate-limit counter of one key in one second
 *
 * The prefix must not hold a brace: Redis hashes the first `{...}` of a name, and a brace in the
 * prefix would move every channel's keys into one slot (config refuses it).
 */
export class KeySpace {
  constructor(readonly prefix: string) {}

  /** The hash-tagged stem of everything about one channel. */
  channel(channel: string): string {
    return `${this.prefix}{${channel}}`;
  }

  history(channel: string): string {
    return `${this.channel(channel)}:h`;
  }

  idempotency(channel: string, key: string): string {
    return `${this.channel(channel)}:i:${key}`;
  }

  /** Set by the attempt that completed every channel of a broadcast to many channels under `key`. */
  completed(key: string): string {
    return `${this.prefix}done:${key}`;
  }

  /** The presence bucket of a user: all of a user's keys and the bucket's indexes share its tag. */
  presenceBucket(userId: string): number {
    return fnv1a(userId) % PRESENCE_BUCKETS;
  }

  presence(bucket: number): string {
    return `${this.prefix}{pb${bucket}}`;
  }

  heartbeats(): string {
    return `${this.prefix}p:hb`;
  }

  /**
   * Echo presence-channel members, keyed with the channel's hash tag (so in its slot, with its
   * history): `:m` HASH user → member JSON; `:m:s:<user>` HASH socket → node; `:m:p` ZSET user →
   * leave time (no socket left, in the grace); `:m:n:<node>` SET "user|socket", a node's sockets
   * there. Every other name of the store is built from this one inside its scripts.
   */
  channelMembers(channel: string): string {
    return `${this.channel(channel)}:m`;
  }

  /** The leave bucket of a channel: where its coming leaves are indexed for the sweeps. */
  memberLeavesBucket(channel: string): number {
    return fnv1a(channel) % MEMBER_LEAVE_BUCKETS;
  }

  /** ZSET: entries naming a channel with a member's leave due at the score (see redis-channel-members.ts). */
  memberLeaves(bucket: number): string {
    return `${this.prefix}{ml${bucket}}:leaving`;
  }

  /** STRING: the hits of rate-limit `key` in the one-second window `second` (both limiters share it). */
  rateWindow(key: string, second: number): string {
    return `${this.prefix}rl:${key}:${second}`;
  }

  /** SET: the presence channels where `node` counts sockets, for the reaping of a dead node. */
  nodeChannels(node: string): string {
    return `${this.prefix}{mn:${node}}:channels`;
  }
}

/** FNV-1a: cheap, stable across nodes and versions. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * How many slots the index of coming Echo presence-channel leaves is spread over: each sweep reads
 * the due entries of every bucket, so this stays small; spread, they are not all on one master.
 */
export const MEMBER_LEAVE_BUCKETS = 16;

/**
 * How many slots presence is spread over. A user's transitions stay one script in one slot (the
 * user's keys and the bucket's online and pending indexes together); listing the online users and
 * sweeping the grace read every bucket (in one write: inOneWrite), so this stays small.
 */
export const PRESENCE_BUCKETS = 16;

/** A Redis name may hold no brace in the prefix part (see KeySpace). */
export function isKeyPrefix(value: string): boolean {
  return !/[{}]/.test(value);
}

/** CRC16/XMODEM table, as Redis Cluster hashes names (https://redis.io/docs/reference/cluster-spec/). */
const CRC16 = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});

/** The cluster slot of a key or shard channel: of its first non-empty `{...}` when it has one. */
export function slotOf(name: string): number {
  const open = name.indexOf("{");
  const close = open === -1 ? -1 : name.indexOf("}", open + 1);
  const hashed = close > open + 1 ? name.slice(open + 1, close) : name;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ byte) & 0xff];
  return crc % 16384;
}
