import { checkChannelAccess } from "../../core/channel-access";
import { AckError, SocketContext } from "../context";
import type { RealtimeSocket } from "../types";
import { parseTarget } from "./parse-target";

/** `thread:viewers {thread_id}` → `{ok, count, user_ids}`: users with a socket in the thread. */
export async function threadViewers(context: SocketContext, socket: RealtimeSocket, request: unknown) {
  if (typeof request !== "object" || request === null || !("thread_id" in request)) throw new AckError("invalid");
  const channel = parseTarget(request);
  const verdict = await checkChannelAccess(context.authorizer, socket.data.userId, channel);
  if (verdict !== "allowed") throw new AckError(verdict === "forbidden" ? "forbidden" : "auth_unavailable");
  const userIds = await context.directory.userIdsIn(channel);
  return { count: userIds.length, user_ids: userIds };
}
