import { compareOffsets, parseOffset } from "@mechamap/protocol";
import type { EventMeta } from "./types.js";
import type { OffsetStore } from "./offset-store.js";

/** Ids remembered per channel, against a repeat that would come with a newer offset. */
const RECENT_IDS = 256;

/**
 * Lets each event through once and in offset order: an event at or before the newest offset already
 * handed over (a replay overlapping live delivery, a reconnect, a reload) or with an id already
 * seen is dropped. What passes moves the channel's offset forward, in the store.
 */
export class EventFilter {
  private readonly recent = new Map<string, string[]>();

  constructor(private readonly offsets: OffsetStore) {}

  accept(meta: EventMeta): boolean {
    const last = this.offsets.get(meta.channel);
    if (last !== undefined && parseOffset(last) && parseOffset(meta.offset)) {
      if (compareOffsets(meta.offset, last) <= 0) return false;
    }
    let ids = this.recent.get(meta.channel);
    if (!ids) this.recent.set(meta.channel, (ids = []));
    if (ids.includes(meta.id)) return false;
    ids.push(meta.id);
    if (ids.length > RECENT_IDS) ids.shift();
    this.offsets.set(meta.channel, meta.offset);
    return true;
  }

  /** The channel is left: its offset and ids go (a later subscribe starts from live). */
  forget(channel: string): void {
    this.recent.delete(channel);
    this.offsets.remove(channel);
  }
}

export function isEventMeta(value: unknown): value is EventMeta {
  const meta = value as Partial<EventMeta> | null;
  return (
    typeof meta === "object" &&
    meta !== null &&
    typeof meta.id === "string" &&
    typeof meta.channel === "string" &&
    typeof meta.offset === "string"
  );
}
