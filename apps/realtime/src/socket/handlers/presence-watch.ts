import { normaliseId } from "@mechamap/protocol";
import { presenceChannel } from "../../core/presence-service";
import { AckError, SocketContext } from "../context";
import type { RealtimeSocket } from "../types";

export const MAX_WATCHED_USERS = 1000;

/** `presence:watch {user_ids}` → `{ok, online}`; then `user_online` / `user_offline` for them. */
export async function presenceWatch(context: SocketContext, socket: RealtimeSocket, request: unknown) {
  if (socket.data.userId === null) throw new AckError("forbidden");
  const raw = (request as { user_ids?: unknown } | null)?.user_ids;
  if (!Array.isArray(raw) || raw.length > MAX_WATCHED_USERS) throw new AckError("invalid");
  const ids = raw.map(normaliseId);
  if (ids.some((id) => id === undefined)) throw new AckError("invalid");
  const userIds = [...new Set(ids as string[])];
  const watching = (socket.data.watching ??= new Set());
  if (new Set([...watching, ...userIds]).size > MAX_WATCHED_USERS) throw new AckError("subscription_limit");
  for (const userId of userIds) watching.add(userId);
  // Subscribed before the lookup: a transition after it reaches the socket, one before it is in the answer.
  await Promise.all(userIds.map((userId) => context.delivery.join(socket.id, presenceChannel(userId))));
  const found = await context.presence.lookup(userIds);
  return { online: userIds.filter((userId) => found.get(userId)?.online) };
}
