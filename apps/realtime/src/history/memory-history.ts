import type { EventMeta } from "@mechamap/protocol";
import type { ChannelMessage, Clock, History, MessageDraft, Replay } from "../core/ports";
import { parseOffset } from "../core/offsets";

interface Entry {
  seq: number;
  ts: number;
  message: ChannelMessage;
}

interface ChannelLog {
  entries: Entry[];
  /** Sequence of the newest entry dropped (size or age): offsets before it cannot be recovered. */
  trimmedThrough: number;
}

export interface MemoryHistoryOptions {
  size: number;
  ttlS: number;
  clock: Clock;
}

/**
 * Per-channel history of the last `size` messages younger than `ttlS`, in one process.
 * Sequences are node-wide, so they increase per channel and never repeat after a channel expires.
 */
export class MemoryHistory implements History {
  private readonly channels = new Map<string, ChannelLog>();
  private readonly epoch: number;
  private seq = 0;

  constructor(private readonly options: MemoryHistoryOptions) {
    this.epoch = options.clock.now();
  }

  append(draft: MessageDraft): EventMeta {
    const ts = this.options.clock.now();
    const seq = ++this.seq;
    const meta: EventMeta = { id: draft.id, channel: draft.channel, offset: `${this.epoch}-${seq}`, ts };
    const log = this.logOf(draft.channel, seq);
    const { channel, event, data, except } = draft;
    log.entries.push({ seq, ts, message: { channel, event, data, meta, ...(except ? { except } : {}) } });
    this.trim(log, ts);
    return meta;
  }

  async since(channel: string, offset: string): Promise<Replay> {
    const parsed = parseOffset(offset);
    const log = this.channels.get(channel);
    if (!log) return { recovered: false, messages: [] };
    this.trim(log, this.options.clock.now());
    // An offset of an earlier epoch (before a restart) predates everything kept here.
    const seq = parsed && parsed[0] === this.epoch ? parsed[1] : -1;
    const messages = log.entries.filter((entry) => entry.seq > seq).map((entry) => entry.message);
    return { recovered: seq >= 0 && seq >= log.trimmedThrough, messages };
  }

  /** Drops channels whose every message has expired; call now and then to bound memory. */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [channel, log] of this.channels) {
      this.trim(log, now);
      if (log.entries.length === 0) this.channels.delete(channel);
    }
  }

  private logOf(channel: string, firstSeq: number): ChannelLog {
    let log = this.channels.get(channel);
    if (!log) {
      // Nothing before this channel's first kept message can be vouched for.
      log = { entries: [], trimmedThrough: firstSeq - 1 };
      this.channels.set(channel, log);
    }
    return log;
  }

  private trim(log: ChannelLog, now: number): void {
    const oldest = now - this.options.ttlS * 1000;
    let drop = Math.max(0, log.entries.length - this.options.size);
    while (drop < log.entries.length && log.entries[drop].ts < oldest) drop++;
    if (drop === 0) return;
    log.trimmedThrough = log.entries[drop - 1].seq;
    log.entries.splice(0, drop);
  }
}
