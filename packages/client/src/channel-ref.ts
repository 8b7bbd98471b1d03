import { isChannelName, normaliseId, threadChannel } from "@mechamap/protocol";
import type { ChannelRef } from "./types.js";

/** `"thread.7"`, `{thread_id: 7}` or `{channel}` → the channel's full name; undefined when invalid. */
export function channelOf(ref: ChannelRef): string | undefined {
  if (typeof ref === "string") return isChannelName(ref) ? ref : undefined;
  if ("thread_id" in ref) {
    const id = normaliseId(ref.thread_id);
    return id === undefined ? undefined : threadChannel(id);
  }
  return isChannelName(ref.channel) ? ref.channel : undefined;
}
