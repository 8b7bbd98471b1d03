import type { EventMeta } from "@mechamap/protocol";
import type { Broadcaster, ChannelMessage, MessageDraft, MessageSink } from "../core/ports";
import type { MemoryHistory } from "../history/memory-history";

/** Embedded mode: history append and local delivery in one synchronous step. */
export class MemoryBroadcaster implements Broadcaster {
  private readonly sinks: MessageSink[] = [];

  constructor(private readonly history: MemoryHistory) {}

  async publish(drafts: MessageDraft[]): Promise<EventMeta[]> {
    return drafts.map((draft) => {
      const meta = this.history.append(draft);
      this.deliver({ channel: draft.channel, event: draft.event, data: draft.data, meta });
      return meta;
    });
  }

  async signal(message: ChannelMessage): Promise<void> {
    this.deliver(message);
  }

  onMessage(sink: MessageSink): void {
    this.sinks.push(sink);
  }

  /** One process, no bus: nothing can be missed. */
  onGap(): void {}

  private deliver(message: ChannelMessage): void {
    for (const sink of this.sinks) sink(message);
  }
}
