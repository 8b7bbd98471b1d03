import { echoChannelKind, EchoMember, isChannelName, isEchoChannelName } from "@mechamap/protocol";
import { checkChannelAccess } from "../../core/channel-access";
import type { EchoContext, SocketContext } from "../context";
import type { RealtimeSocket } from "../types";
import { addSubscription, isSubscribed, subscriptionCount } from "../subscriptions";

/** Statuses of `subscription_error` that do not come from Laravel. */
const INVALID = 400;
const FORBIDDEN = 403;
const TOO_MANY = 429;
const UNAVAILABLE = 503;

/** A refusal: `subscription_error (channel, status)`, which Echo ignores and our SDK does not. */
class Refused extends Error {
  constructor(readonly status: number) {
    super(`subscription refused: ${status}`);
  }
}

/**
 * Echo's `subscribe {channel, auth}` (no ack). Public names are public, but those of our own grammar
 * (`thread.7`), which follow our rules (section 7);
 * `private-*` and `presence-*` are Laravel's call through `/broadcasting/auth`. Subscribing again to a
 * channel the socket is in (Echo does after a reconnect) is harmless: a presence channel answers its
 * members again and announces nothing.
 */
export async function echoSubscribe(
  context: SocketContext,
  echo: EchoContext,
  socket: RealtimeSocket,
  request: { channel?: unknown; auth?: unknown },
): Promise<void> {
  const { channel } = request;
  if (!isEchoChannelName(channel)) {
    if (typeof channel === "string" && channel.length <= 200) socket.emit("subscription_error", channel, INVALID);
    return;
  }
  try {
    const member = await admit(context, echo, socket, channel, headersOf(request.auth));
    if (socket.disconnected) return;
    addSubscription(socket.data, channel);
    // Through the one delivery path: it waits until this node gets the channel's messages.
    await context.delivery.join(socket.id, channel);
    if (member) await joinPresence(echo, socket, channel, member);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    context.metrics.authFailures.inc({ kind: "channel_refused" });
    socket.emit("subscription_error", channel, error.status);
  }
}

/** Decides; for a presence channel, answers the member Laravel named. */
async function admit(
  context: SocketContext,
  echo: EchoContext,
  socket: RealtimeSocket,
  channel: string,
  headers: Record<string, string>,
): Promise<EchoMember | undefined> {
  const { userId } = socket.data;
  if (!isSubscribed(socket.data, channel) && subscriptionCount(socket.data) >= context.maxSubscriptions) {
    throw new Refused(TOO_MANY);
  }
  const kind = echoChannelKind(channel);
  if (kind === "public") {
    // Laravel's public channels are public. A name that is also one of ours (`thread.7`, `user.5`)
    // keeps our rules, so that Echo's dialect is no way around CHANNEL_AUTH=laravel.
    if (!isChannelName(channel)) return undefined;
    const verdict = await checkChannelAccess(context.authorizer, userId, channel);
    if (verdict !== "allowed") throw new Refused(verdict === "forbidden" ? FORBIDDEN : UNAVAILABLE);
    return undefined;
  }
  // Guests use public channels only; without Laravel to ask, private means refused.
  if (userId === null || !echo.broadcastAuth) throw new Refused(FORBIDDEN);
  const cookie = socket.data.cookie;
  const answer = await echo.broadcastAuth.authorize({
    userId,
    channel,
    socketId: socket.id,
    headers: cookie ? { ...headers, Cookie: cookie } : headers,
  });
  if (answer.status !== 200) throw new Refused(answer.status);
  return kind === "presence" ? answer.member : undefined;
}

/** Counts the socket in (once per socket and channel) and sends it the members. */
async function joinPresence(echo: EchoContext, socket: RealtimeSocket, channel: string, member: EchoMember) {
  const memberships = (socket.data.presenceChannels ??= new Map());
  let membership = memberships.get(channel);
  if (!membership) {
    // Kept before the join completes: a disconnect meanwhile waits for it, then leaves (leave-echo.ts).
    const joined = echo.presence.join(channel, member, socket.id);
    membership = { userId: String(member.user_id), joined };
    memberships.set(channel, membership);
    socket.emit("presence:subscribed", channel, await joined);
    return;
  }
  await membership.joined;
  socket.emit("presence:subscribed", channel, await echo.presence.members(channel));
}

/** Echo's `auth.headers`: string values only. */
function headersOf(auth: unknown): Record<string, string> {
  const headers = (auth as { headers?: unknown } | null)?.headers;
  if (typeof headers !== "object" || headers === null) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === "string") out[name] = value;
  return out;
}
