import { isChannelName, normaliseId, threadChannel } from "@mechamap/protocol";
import { AckError } from "../context";

/** The channel a client event names: `{thread_id}` or `{channel}`. */
export function parseTarget(request: unknown): string {
  if (typeof request === "object" && request !== null) {
    const { thread_id: threadId, channel } = request as { thread_id?: unknown; channel?: unknown };
    if (threadId !== undefined) {
      const id = normaliseId(threadId);
      if (id !== undefined) return threadChannel(id);
    } else if (isChannelName(channel)) return channel;
  }
  throw new AckError("invalid");
}
