import type { EventMeta } from "@mechamap/protocol";
import type {
  Broadcaster,
  ChannelMessage,
  History,
  MessageDraft,
  MessageSink,
  PublishOnceOutcome,
  Replay,
} from "../core/ports";
import { compareOffsets } from "../core/offsets";
import type { RedisClient } from "../cluster/redis-connections";
import { KeySpace } from "../cluster/key-space";
import { RedisScript } from "../cluster/redis-script";

/**
 * Offset, history and fan-out of one channel in one atomic step: XADD gives the offset (a stream id,
 * increasing per channel across nodes), then entries past HISTORY_SIZE or older than HISTORY_TTL_S
 * go, and the publish on the bus happens in the same script, so bus order is offset order. Old
 * entries are removed with XDEL, not XTRIM, because only XDEL moves `max-deleted-entry-id`: the
 * recovery floor.
 *
 * One script per channel, and every key it touches carries the channel's hash tag (KeySpace): on a
 * Redis Cluster the script runs on the channel's master, never CROSSSLOT; on a single Redis the
 * scripts of one broadcast go out in one pipeline (one round trip).
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
 * KEYS: stream[, idempotency key]. ARGV: history size, history TTL, bus, idempotency TTL (0: no key),
 * payload. Returns {offset, 1 if the key already held it else 0}.
 */
const PUBLISH = new RedisScript(`
local size, ttl, bus, onceTtl, payload = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local key = KEYS[1]
if onceTtl > 0 then
  local stored = redis.call('GET', KEYS[2])
  if stored then return {stored, 1} end
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
redis.call('PUBLISH', bus, id .. '|' .. payload)
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
}

export interface RedisBroadcasterOptions {
  commands: RedisClient;
  subscriber: RedisClient;
  prefix: string;
  historySize: number;
  historyTtlS: number;
  /** Names this node's canary, a message it sends itself over the bus. */
  nodeId: string;
}

/** How often the canary goes round, and how late it may be before the bus counts as broken. */
const CANARY_EVERY_MS = 500;
const CANARY_STALE_MS = 2000;
/** Clock skew between nodes and Redis that a gap replay allows for. */
const GAP_MARGIN_MS = 1000;

export class RedisBroadcaster implements Broadcaster, History {
  private readonly sinks: MessageSink[] = [];
  private readonly gapListeners: Array<(sinceMs: number) => void> = [];
  private readonly bus: string;
  private readonly keys: KeySpace;
  private readonly canaryChannel: string;
  private canaryTimer: NodeJS.Timeout | undefined;
  private lastCanary = 0;
  /** Set while the subscription is (or may have been) down: when messages may have been missed. */
  private lostAt: number | undefined;

  constructor(private readonly options: RedisBroadcasterOptions) {
    this.keys = new KeySpace(options.prefix);
    this.bus = `${options.prefix}bus`;
    this.canaryChannel = `~canary.${options.nodeId}`;
  }

  /**
   * Subscribes to the bus (ioredis resubscribes by itself after a reconnect) and starts the canary:
   * a subscriber can look connected while delivering nothing, so only a message of its own that
   * makes the round trip proves the path works. The first canary after an outage also triggers the
   * gap replay: anything published meanwhile is in the history.
   */
  async start(): Promise<void> {
    const { subscriber } = this.options;
    subscriber.on("message", (channel: string, text: string) => {
      if (channel === this.bus) this.receive(text);
    });
    subscriber.on("close", () => (this.lostAt ??= Date.now()));
    await subscriber.subscribe(this.bus);
    const sendCanary = (): Promise<void> => this.signal({ channel: this.canaryChannel, event: "canary", data: {} });
    this.canaryTimer = setInterval(() => sendCanary().catch(() => undefined), CANARY_EVERY_MS);
    this.canaryTimer.unref();
    const firstCanary = new Promise<void>((resolve) => this.gapListeners.push(() => resolve()));
    this.lostAt = Date.now();
    await sendCanary();
    await firstCanary;
    this.gapListeners.length = 0;
  }

  stop(): void {
    clearInterval(this.canaryTimer);
  }

  /** True while this node's own messages come back through the bus. */
  isFlowing(): boolean {
    return Date.now() - this.lastCanary < CANARY_STALE_MS;
  }

  onGap(listener: (sinceMs: number) => void): void {
    this.gapListeners.push(listener);
  }

  async publish(drafts: MessageDraft[]): Promise<EventMeta[]> {
    const replies = await settleAll(drafts.map((draft) => this.runPublish(draft)));
    return drafts.map((draft, index) => metaOf(draft.id, draft.channel, replies[index][0]));
  }

  /**
   * One idempotent publish per channel under the same key. When some fail, the others stand (they
   * are recorded under the key) and the error is thrown once all are settled: the sender's retry
   * publishes only what is missing. A duplicate is a repeat where every channel was already done.
   */
  async publishOnce(key: string, ttlS: number, drafts: MessageDraft[]): Promise<PublishOnceOutcome> {
    const once = { key, ttlS };
    const replies = await settleAll(drafts.map((draft) => this.runPublish(draft, once)));
    const metas = drafts.map((draft, index) => metaOf(key, draft.channel, replies[index][0]));
    if (replies.every(([, done]) => done === 1)) {
      return {
        duplicate: true,
        previous: { id: key, channels: metas.map(({ channel, offset }) => ({ channel, offset })) },
      };
    }
    return { duplicate: false, metas };
  }

  /** The script of one channel; calls made in one tick share one round trip (auto-pipelining). */
  private runPublish(draft: MessageDraft, once?: { key: string; ttlS: number }): Promise<[string, number]> {
    const { commands, historySize, historyTtlS } = this.options;
    const payload: WirePayload = { c: draft.channel, e: draft.event, d: draft.data, i: draft.id };
    const keys = [this.keys.history(draft.channel)];
    if (once) keys.push(this.keys.idempotency(draft.channel, once.key));
    const onceTtl = once ? Math.max(1, Math.ceil(once.ttlS)) : 0;
    const args = [historySize, historyTtlS, this.bus, onceTtl, JSON.stringify(payload)];
    return PUBLISH.run(commands, keys, args) as Promise<[string, number]>;
  }

  async signal(message: ChannelMessage): Promise<void> {
    const payload: WirePayload = { c: message.channel, e: message.event, d: message.data };
    await this.options.commands.publish(this.bus, `-|${JSON.stringify(payload)}`);
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

  private receive(text: string): void {
    const bar = text.indexOf("|");
    const offset = text.slice(0, bar);
    const payload = JSON.parse(text.slice(bar + 1)) as WirePayload;
    if (payload.c.startsWith("~")) {
      if (payload.c === this.canaryChannel) this.onCanary();
      return;
    }
    const message: ChannelMessage = { channel: payload.c, event: payload.e, data: payload.d };
    if (offset !== "-") message.meta = metaOf(payload.i ?? "", payload.c, offset);
    for (const sink of this.sinks) sink(message);
  }

  private onCanary(): void {
    const now = Date.now();
    // A canary that comes back late means the bus stalled even if the connection never dropped.
    if (this.lastCanary > 0 && now - this.lastCanary > CANARY_STALE_MS) this.lostAt ??= this.lastCanary;
    this.lastCanary = now;
    if (this.lostAt === undefined) return;
    const since = this.lostAt - GAP_MARGIN_MS;
    this.lostAt = undefined;
    for (const listener of this.gapListeners) listener(since);
  }

  private decode(id: string, text: string): ChannelMessage {
    const payload = JSON.parse(text) as WirePayload;
    return { channel: payload.c, event: payload.e, data: payload.d, meta: metaOf(payload.i ?? "", payload.c, id) };
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
