import type { EventMeta } from "@mechamap/protocol";
import type {
  Broadcaster,
  ChannelInterest,
  ChannelMessage,
  Clock,
  History,
  MessageDraft,
  MessageSink,
  PublishOnceOutcome,
  Replay,
  Scheduler,
} from "../core/ports";
import { compareOffsets } from "../core/offsets";
import type { RedisClient } from "../cluster/redis-connections";
import { KeySpace } from "../cluster/key-space";
import { inOneWrite } from "../cluster/one-write";
import { RedisScript } from "../cluster/redis-script";
import type { ReplicaWatch } from "../cluster/replica-watch";
import { ShardSubscriptions } from "../cluster/shard-subscriptions";

/**
 * Offset, history and fan-out of one channel in one atomic step: XADD gives the offset (a stream id,
 * increasing per channel across nodes), then entries past HISTORY_SIZE or older than HISTORY_TTL_S
 * go, and the publish on the bus happens in the same script, so bus order is offset order. Old
 * entries are removed with XDEL, not XTRIM, because only XDEL moves `max-deleted-entry-id`: the
 * recovery floor.
 *
 * One script per channel, and every key it touches carries the channel's hash tag (KeySpace): on a
 * Redis Cluster the script runs on the channel's master, never CROSSSLOT; on a single Redis the
 * scripts of one broadcast go out in one write (one round trip).
 *
 * Under an idempotency key (ARGV[4] > 0, KEYS[2] the channel's key for it) the script first
 * answers a key it already holds with the offset it holds, and otherwise records the new offset
 * under the key with the publish: check, publish and record are one step, and no repeat can slip
 * in between. A broadcast to many channels is one such step per channel under the same key, so a
 * retry completes exactly the channels a failed attempt left undone.
 *
 * Redis does not undo a script's writes when it fails halfway, so everything that can fail comes
 * before the first write (a key of another type; a Redis over maxmemory refuses the first write):
 * a failed publish writes nothing, neither the message nor the key, and the retry goes through.
 *
 * KEYS: stream[, idempotency key]. ARGV: history size, history TTL, the channel's shard channel
 * (SPUBLISH: only nodes that hold a member read it), idempotency TTL (0: no key),
 * payload. Returns {offset, 1 if the key already held it else 0}.
 */
const PUBLISH = new RedisScript(`
local size, ttl, bus, onceTtl, payload = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local key = KEYS[1]
if onceTtl > 0 then
  local stored = redis.call('GET', KEYS[2])
  if stored then
    -- A write of nothing new (same TTL), so that a WAIT after this repeat covers the first publish.
    local pttl = redis.call('PTTL', KEYS[2])
    if pttl > 0 then redis.call('PEXPIRE', KEYS[2], pttl) end
    return {stored, 1}
  end
end
local kind = redis.call('TYPE', key)['ok']
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE history key ' .. key .. ' holds a ' .. kind)
end
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - ttl * 1000
local id = redis.call('XADD', key, '*', 'm', payload)
local doomed = {}
local excess = redis.call('XLEN', key) - size
if excess > 0 then
  for _, entry in ipairs(redis.call('XRANGE', key, '-', '+', 'COUNT', excess)) do table.insert(doomed, entry[1]) end
end
for _, entry in ipairs(redis.call('XRANGE', key, '-', '(' .. cutoff, 'COUNT', 100)) do table.insert(doomed, entry[1]) end
for i = 1, #doomed, 500 do redis.call('XDEL', key, unpack(doomed, i, math.min(i + 499, #doomed))) end
redis.call('EXPIRE', key, ttl)
redis.call('SPUBLISH', bus, id .. '|' .. payload)
if onceTtl > 0 then redis.call('SET', KEYS[2], id, 'EX', onceTtl) end
return {id, 0}
`);

/** What a replay needs, read atomically: what was trimmed, what is first, and what came after. */
const SINCE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local deleted, first = '0-0', ''
for i = 1, #info, 2 do
  if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
  if info[i] == 'first-entry' and info[i + 1] then first = info[i + 1][1] end
end
return { deleted, first, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+') }
`);

interface WirePayload {
  c: string;
  e: string;
  d: Record<string, unknown>;
  i?: string;
  /** The socket that must not get it (toOthers, a whisper's sender). */
  x?: string;
}

export interface RedisBroadcasterOptions {
  commands: RedisClient;
  subscriber: RedisClient;
  prefix: string;
  historySize: number;
  historyTtlS: number;
  /** Names this node's canaries, messages it sends itself through each shard. */
  nodeId: string;
  /** When a shard was lost, when its canary goes and whether it is late; Redis's own clock stamps the offsets. */
  clock?: Clock;
  scheduler?: Scheduler;
  /** How long a channel stays subscribed after its last local member left (SUBSCRIPTION_LINGER_MS). */
  lingerMs: number;
  /** Where replicas are connected: publishes there wait for one (WAIT). Absent: never wait. */
  replicas?: ReplicaWatch;
  /** How long a publish waits for a replica before it fails (503, the sender retries); 0: never wait. */
  waitTimeoutMs: number;
}

export class RedisBroadcaster implements Broadcaster, History, ChannelInterest {
  private readonly sinks: MessageSink[] = [];
  private readonly keys: KeySpace;
  private readonly subscriptions: ShardSubscriptions;

  constructor(private readonly options: RedisBroadcasterOptions) {
    this.keys = new KeySpace(options.prefix);
    this.subscriptions = new ShardSubscriptions({
      subscriber: options.subscriber,
      commands: options.commands,
      keys: this.keys,
      nodeId: options.nodeId,
      lingerMs: options.lingerMs,
      onMessage: (text) => this.receive(text),
      clock: options.clock,
      scheduler: options.scheduler,
    });
  }

  /**
   * Subscribes what every node holds (`all`) and starts the per-shard canaries; resolves once the
   * bus works. ioredis subscribes again by itself after a reconnect; the gap replay covers the rest.
   */
  start(): Promise<void> {
    return this.subscriptions.start();
  }

  stop(): void {
    this.subscriptions.stop();
  }

  /** True while this node's own canaries come back from every shard. */
  isFlowing(): boolean {
    return this.subscriptions.isFlowing();
  }

  /** Resolves once subscribed (a joining socket waits for it: core/channel-delivery.ts). */
  hold(channel: string): Promise<void> {
    return this.subscriptions.hold(channel);
  }

  release(channel: string): void {
    this.subscriptions.release(channel);
  }

  onGap(listener: (sinceMs: number, channels?: string[]) => void): void {
    this.subscriptions.onGap(listener);
  }

  async publish(drafts: MessageDraft[]): Promise<EventMeta[]> {
    const replies = await this.publishAll(drafts);
    return drafts.map((draft, index) => metaOf(draft.id, draft.channel, replies[index][0]));
  }

  /**
   * One idempotent publish per channel under the same key. When some fail, the others stand (they
   * are recorded under the key) and the error is thrown once all are settled: the sender's retry
   * publishes only what is missing. A duplicate is a repeat where every channel was already done.
   */
  async publishOnce(key: string, ttlS: number, drafts: MessageDraft[]): Promise<PublishOnceOutcome> {
    const once = { key, ttlS };
    const replies = await this.publishAll(drafts, once);
    const metas = drafts.map((draft, index) => metaOf(key, draft.channel, replies[index][0]));
    const previous = { id: key, channels: metas.map(({ channel, offset }) => ({ channel, offset })) };
    if (replies.every(([, done]) => done === 1)) return { duplicate: true, previous };
    // Concurrent repeats over many channels can each publish some of them (each channel once):
    // the first to finish every channel is the accepted one, the others are answered as repeats.
    if (drafts.length > 1 && !(await this.firstToComplete(key, ttlS))) return { duplicate: true, previous };
    return { duplicate: false, metas };
  }

  /** Marks the key's broadcast complete (SET NX): true for the one attempt that does it first. */
  private async firstToComplete(key: string, ttlS: number): Promise<boolean> {
    const marker = this.keys.completed(key);
    return (await this.options.commands.set(marker, "1", "EX", Math.max(1, Math.ceil(ttlS)), "NX")) === "OK";
  }

  /**
   * Every channel's script, settled; those of a broadcast to many channels leave in one write
   * (inOneWrite). A lone one, nearly every call, is written as it is: no cork for one command.
   */
  private publishAll(drafts: MessageDraft[], once?: { key: string; ttlS: number }): Promise<Array<[string, number]>> {
    const issue = () => drafts.map((draft) => this.runPublish(draft, once));
    return settleAll(drafts.length === 1 ? issue() : inOneWrite(this.options.commands, issue));
  }

  /** The script of one channel. */
  private async runPublish(draft: MessageDraft, once?: { key: string; ttlS: number }): Promise<[string, number]> {
    const { commands, historySize, historyTtlS } = this.options;
    const payload: WirePayload = { c: draft.channel, e: draft.event, d: draft.data, i: draft.id };
    if (draft.except) payload.x = draft.except;
    const keys = [this.keys.history(draft.channel)];
    if (once) keys.push(this.keys.idempotency(draft.channel, once.key));
    const onceTtl = once ? Math.max(1, Math.ceil(once.ttlS)) : 0;
    const shard = this.keys.channel(draft.channel);
    const args = [historySize, historyTtlS, shard, onceTtl, JSON.stringify(payload)];
    const { replicas, waitTimeoutMs } = this.options;
    // No replica connected (a single Redis, or a master just promoted): accept on the master alone.
    const wanted = replicas && waitTimeoutMs > 0 && replicas.hasReplica(shard) ? 1 : 0;
    const [reply, acked] = await PUBLISH.runThenWait(commands, keys, args, wanted, waitTimeoutMs);
    if (acked < wanted) throw new Error(`no replica acknowledged the broadcast within ${waitTimeoutMs} ms`);
    return reply as [string, number];
  }

  async signal(message: ChannelMessage): Promise<void> {
    const payload: WirePayload = { c: message.channel, e: message.event, d: message.data };
    if (message.except) payload.x = message.except;
    await this.options.commands.spublish(this.keys.channel(message.channel), `-|${JSON.stringify(payload)}`);
  }

  onMessage(sink: MessageSink): void {
    this.sinks.push(sink);
  }

  async since(channel: string, offset: string): Promise<Replay> {
    const found = (await SINCE.run(this.options.commands, [this.streamKey(channel)], [offset])) as
      [string, string, Array<[string, string[]]>] | null;
    if (!found) return { recovered: false, messages: [] };
    const [deleted, first, entries] = found;
    // Recoverable when nothing after `offset` was trimmed; on a stream that never trimmed,
    // an offset before its first entry belongs to an earlier, expired stream.
    const recovered =
      compareOffsets(offset, deleted) >= 0 &&
      (deleted !== "0-0" || (first !== "" && compareOffsets(offset, first) >= 0));
    return { recovered, messages: entries.map(([id, fields]) => this.decode(id, fields[1])) };
  }

  /** A malformed message is dropped: one bad publisher must not take every node down. */
  private receive(text: string): void {
    const bar = text.indexOf("|");
    let payload: WirePayload;
    try {
      payload = JSON.parse(text.slice(bar + 1)) as WirePayload;
    } catch {
      return;
    }
    if (typeof payload?.c !== "string" || typeof payload.e !== "string") return;
    const offset = text.slice(0, bar);
    const message: ChannelMessage = { channel: payload.c, event: payload.e, data: payload.d };
    if (offset !== "-") message.meta = metaOf(payload.i ?? "", payload.c, offset);
    if (payload.x) message.except = payload.x;
    for (const sink of this.sinks) sink(message);
  }

  private decode(id: string, text: string): ChannelMessage {
    const payload = JSON.parse(text) as WirePayload;
    const message: ChannelMessage = {
      channel: payload.c,
      event: payload.e,
      data: payload.d,
      meta: metaOf(payload.i ?? "", payload.c, id),
    };
    if (payload.x) message.except = payload.x;
    return message;
  }

  private streamKey(channel: string): string {
    return this.keys.history(channel);
  }
}

/** A stream id is `<ms>-<seq>` of Redis's clock: its first part is when the cluster accepted it. */
function metaOf(id: string, channel: string, offset: string): EventMeta {
  return { id, channel, offset, ts: Number(offset.slice(0, offset.indexOf("-"))) };
}

/** Waits for every call, then throws the first failure: the calls that succeeded are not abandoned mid-way. */
async function settleAll<T>(calls: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(calls);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}
