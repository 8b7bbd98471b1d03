import type { EventMeta } from "@mechamap/protocol";
import type {
  Broadcaster,
  ChannelMessage,
  Cancel,
  Clock,
  History,
  IdempotentResult,
  MessageDraft,
  MessageSink,
  PublishOnceOutcome,
  Replay,
  Scheduler,
} from "../core/ports";
import { compareOffsets } from "../core/offsets";
import { systemClock, systemScheduler } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";
import { RedisScript } from "../cluster/redis-script";

/**
 * Offset, history and fan-out in one atomic step: XADD gives the offset (a stream id, increasing
 * per channel across nodes), then entries past HISTORY_SIZE or older than HISTORY_TTL_S go, and
 * the PUBLISH on the bus happens in the same script, so bus order is offset order. Old entries are
 * removed with XDEL, not XTRIM, because only XDEL moves `max-deleted-entry-id`: the recovery floor.
 *
 * Under an idempotency key (ARGV[4] > 0, KEYS[1] the key) the same script first answers a key it
 * already holds with what it holds (the first publish's result as JSON, or "pending" left by a node
 * of an older version mid-publish), and otherwise stores the result under the key with the
 * publish: check, publish and record are one round trip, and no repeat can slip in between.
 *
 * Redis does not undo a script's writes when it fails halfway, so everything that can fail comes
 * before the first write (a key of another type; a Redis over maxmemory refuses the first write):
 * a failed publish writes nothing, neither messages nor the key, and the sender's retry goes through.
 *
 * KEYS: [idempotency key,] stream of each draft. ARGV: history size, history TTL, bus,
 * idempotency TTL (0: no key), result id, then each draft's channel and payload.
 */
const PUBLISH = new RedisScript(`
local size, ttl, bus, onceTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local first = 1
if onceTtl > 0 then
  local stored = redis.call('GET', KEYS[1])
  if stored then return stored end
  first = 2
end
for k = first, #KEYS do
  local kind = redis.call('TYPE', KEYS[k])['ok']
  if kind ~= 'stream' and kind ~= 'none' then
    return redis.error_reply('WRONGTYPE history key ' .. KEYS[k] .. ' holds a ' .. kind)
  end
end
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - ttl * 1000
local ids, results = {}, {}
for k = first, #KEYS do
  local key, channel, payload = KEYS[k], ARGV[6 + 2 * (k - first)], ARGV[7 + 2 * (k - first)]
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
  ids[#ids + 1] = id
  results[#results + 1] = '{"channel":' .. cjson.encode(channel) .. ',"offset":"' .. id .. '"}'
end
if onceTtl > 0 then
  local result = '{"id":' .. cjson.encode(ARGV[5]) .. ',"channels":[' .. table.concat(results, ',') .. ']}'
  redis.call('SET', KEYS[1], result, 'EX', onceTtl)
end
return ids
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
  /** Names this node's canary, a message it sends itself over the bus. */
  nodeId: string;
  /** When the bus was lost, when the canary goes and whether it is late; Redis's own clock stamps the offsets. */
  clock?: Clock;
  scheduler?: Scheduler;
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
  private readonly canaryChannel: string;
  private stopCanary: Cancel = () => undefined;
  private lastCanary = 0;
  /** Set while the subscription is (or may have been) down: when messages may have been missed. */
  private lostAt: number | undefined;

  private readonly clock: Clock;

  constructor(private readonly options: RedisBroadcasterOptions) {
    this.clock = options.clock ?? systemClock;
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
    subscriber.on("close", () => (this.lostAt ??= this.clock.now()));
    await subscriber.subscribe(this.bus);
    const sendCanary = (): Promise<void> => this.signal({ channel: this.canaryChannel, event: "canary", data: {} });
    this.stopCanary = (this.options.scheduler ?? systemScheduler).every(CANARY_EVERY_MS, () =>
      sendCanary().catch(() => undefined),
    );
    const firstCanary = new Promise<void>((resolve) => this.gapListeners.push(() => resolve()));
    this.lostAt = this.clock.now();
    await sendCanary();
    await firstCanary;
    this.gapListeners.length = 0;
  }

  stop(): void {
    this.stopCanary();
  }

  /** True while this node's own messages come back through the bus. */
  isFlowing(): boolean {
    return this.clock.now() - this.lastCanary < CANARY_STALE_MS;
  }

  onGap(listener: (sinceMs: number) => void): void {
    this.gapListeners.push(listener);
  }

  async publish(drafts: MessageDraft[]): Promise<EventMeta[]> {
    const ids = (await this.runPublish(drafts)) as string[];
    return drafts.map((draft, index) => metaOf(draft.id, draft.channel, ids[index]));
  }

  async publishOnce(key: string, ttlS: number, drafts: MessageDraft[]): Promise<PublishOnceOutcome> {
    const reply = await this.runPublish(drafts, { key, ttlS });
    if (Array.isArray(reply)) {
      return { duplicate: false, metas: drafts.map((draft, index) => metaOf(draft.id, draft.channel, reply[index])) };
    }
    return { duplicate: true, previous: parseResult(reply) };
  }

  /** One script call for all the drafts: their streams are KEYS, so the call is one round trip. */
  private runPublish(drafts: MessageDraft[], once?: { key: string; ttlS: number }): Promise<string[] | string> {
    const { commands, historySize, historyTtlS, prefix } = this.options;
    const keys = once ? [`${prefix}idem:${once.key}`] : [];
    const args: Array<string | number> = [
      historySize,
      historyTtlS,
      this.bus,
      once ? Math.max(1, Math.ceil(once.ttlS)) : 0,
    ];
    args.push(once?.key ?? "");
    for (const draft of drafts) {
      const payload: WirePayload = { c: draft.channel, e: draft.event, d: draft.data, i: draft.id };
      if (draft.except) payload.x = draft.except;
      keys.push(this.streamKey(draft.channel));
      args.push(draft.channel, JSON.stringify(payload));
    }
    return PUBLISH.run(commands, keys, args) as Promise<string[] | string>;
  }

  async signal(message: ChannelMessage): Promise<void> {
    const payload: WirePayload = { c: message.channel, e: message.event, d: message.data };
    if (message.except) payload.x = message.except;
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
    if (payload.x) message.except = payload.x;
    for (const sink of this.sinks) sink(message);
  }

  private onCanary(): void {
    const now = this.clock.now();
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
    return `${this.options.prefix}h:${channel}`;
  }
}

/** A stream id is `<ms>-<seq>` of Redis's clock: its first part is when the cluster accepted it. */
function metaOf(id: string, channel: string, offset: string): EventMeta {
  return { id, channel, offset, ts: Number(offset.slice(0, offset.indexOf("-"))) };
}

/** What an idempotency key holds: a result, or (a publish in progress on an older node) none yet. */
function parseResult(stored: string): IdempotentResult | undefined {
  if (stored === "pending") return undefined;
  try {
    return JSON.parse(stored) as IdempotentResult;
  } catch {
    return undefined;
  }
}
