import type { SocketContext } from "../context";
import type { RealtimeSocket } from "../types";
import { removeSubscription } from "../subscriptions";
import { parseTarget } from "./parse-target";

/** `unsubscribe {thread_id|channel}` → `{ok:true}`; the user's own channel stays. */
export async function unsubscribe(_context: SocketContext, socket: RealtimeSocket, request: unknown) {
  const channel = parseTarget(request);
  if (removeSubscription(socket.data, channel)) void socket.leave(channel);
  return {};
}
