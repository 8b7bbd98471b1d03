import { parseOffset } from "../../core/offsets";
import { checkChannelAccess } from "../../core/channel-access";
import { AckError, SocketContext } from "../context";
import { addSubscription, isSubscribed, subscriptionCount } from "../subscriptions";
import type { RealtimeSocket } from "../types";
import { parseTarget } from "./parse-target";

/** `subscribe {thread_id|channel, since?}` → `{ok, channel, recovered}`. */
export async function subscribe(context: SocketContext, socket: RealtimeSocket, request: unknown) {
  const channel = parseTarget(request);
  const since = (request as { since?: unknown }).since;
  if (since !== undefined && (typeof since !== "string" || !parseOffset(since))) throw new AckError("invalid");
  const { userId } = socket.data;
  if (!isSubscribed(socket.data, channel) && subscriptionCount(socket.data) >= context.maxSubscriptions) {
    throw new AckError("subscription_limit");
  }
  const verdict = await checkChannelAccess(context.authorizer, userId, channel);
  if (verdict === "forbidden") throw new AckError("forbidden");
  if (verdict === "unavailable") throw new AckError("auth_unavailable");
  if (socket.disconnected) throw new AckError("invalid");
  addSubscription(socket.data, channel);
  const recovered = await context.delivery.join(socket.id, channel, since);
  if (since !== undefined) context.metrics.historyReplays.inc({ outcome: recovered ? "recovered" : "gap" });
  return { channel, recovered };
}
