import type { EventMeta } from "@mechamap/protocol";
import type { Broadcaster, ChannelMessage, Clock, MessageDraft, MessageSink, PublishOnceOutcome } from "../core/ports";
import type { MemoryHistory } from "../history/memory-history";

interface Remembered {
  expiresAt: number;
  meta: EventMeta;
}

/**
 * Embedded mode: history append and local delivery in one synchronous step. Idempotency keys
 * are checked and recorded in that same step (no await in between), so it is atomic here too;
 * like the Redis one, it remembers each channel's publish under the key.
 */
export class MemoryBroadcaster implements Broadcaster {
  private readonly sinks: MessageSink[] = [];
  /** Each channel's publish under an idempotency key (`channel key`), oldest first, as in Redis. */
  private readonly remembered = new Map<string, Remembered>();

  constructor(
    private readonly history: MemoryHistory,
    private readonly clock: Clock,
  ) {}

  async publish(drafts: MessageDraft[]): Promise<EventMeta[]> {
    return this.append(drafts);
  }

  async publishOnce(key: string, ttlS: number, drafts: MessageDraft[]): Promise<PublishOnceOutcome> {
    const now = this.clock.now();
    this.forgetExpired(now);
    const known = drafts.map((draft) => this.remembered.get(`${draft.channel} ${key}`)?.meta);
    const metas = drafts.map((draft, index) => {
      const done = known[index];
      if (done) return done;
      const meta = this.append([{ ...draft, id: key }])[0];
      this.remembered.set(`${draft.channel} ${key}`, { expiresAt: now + ttlS * 1000, meta });
      return meta;
    });
    if (known.every((meta) => meta !== undefined)) {
      return {
        duplicate: true,
        previous: { id: key, channels: metas.map(({ channel, offset }) => ({ channel, offset })) },
      };
    }
    return { duplicate: false, metas };
  }

  async signal(message: ChannelMessage): Promise<void> {
    this.deliver(message);
  }

  onMessage(sink: MessageSink): void {
    this.sinks.push(sink);
  }

  /** One process, no bus: nothing can be missed. */
  onGap(): void {}

  private append(drafts: MessageDraft[]): EventMeta[] {
    return drafts.map((draft) => {
      const meta = this.history.append(draft);
      const { channel, event, data, except } = draft;
      this.deliver({ channel, event, data, meta, ...(except ? { except } : {}) });
      return meta;
    });
  }

  private deliver(message: ChannelMessage): void {
    for (const sink of this.sinks) sink(message);
  }

  /** Keys are kept in insertion order, which (one TTL for all) is expiry order. */
  private forgetExpired(now: number): void {
    for (const [key, entry] of this.remembered) {
      if (entry.expiresAt > now) return;
      this.remembered.delete(key);
    }
  }
}
