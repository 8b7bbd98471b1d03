/**
 * Laravel Echo's socket.io dialect (SPEC section 12): what `laravel-echo` 2.x with socket.io-client 4
 * sends and expects, beside our own protocol on the same sockets.
 */

/**
 * Laravel channel names: `news`, `private-orders.5`, `presence-chat.1`, `private-App.Models.User.7`.
 * Letters, digits and `_ - . : = @`. The name of a Socket.IO socket-id room (exactly 20 characters of
 * [A-Za-z0-9_-]) and our `all` pseudo-channel are never channel names, so no client can join either.
 */
const ECHO_CHANNEL_PATTERN = /^[A-Za-z0-9_.:=@-]{1,164}$/;
const SOCKET_ID_PATTERN = /^[A-Za-z0-9_-]{20}$/;

export function isEchoChannelName(value: unknown): value is string {
  return (
    typeof value === "string" && ECHO_CHANNEL_PATTERN.test(value) && !SOCKET_ID_PATTERN.test(value) && value !== "all"
  );
}

export type EchoChannelKind = "public" | "private" | "presence";

/** Laravel's naming decides who may join: `private-*` and `presence-*` are authorized by Laravel. */
export function echoChannelKind(channel: string): EchoChannelKind {
  if (channel.startsWith("presence-")) return "presence";
  if (channel.startsWith("private-")) return "private";
  return "public";
}

/** Whispers: `client-<name>`, relayed as is. */
export const CLIENT_EVENT_PATTERN = /^client-[A-Za-z0-9_.:\\-]{1,120}$/;

/** A presence channel's member, as Laravel's `/broadcasting/auth` names it in `channel_data`. */
export interface EchoMember {
  user_id: string | number;
  user_info?: unknown;
}

/** `subscribe` as Echo sends it: the `auth` key (always present) marks the Echo dialect. */
export interface EchoSubscribeRequest {
  channel: string;
  auth: { headers?: Record<string, string> };
}

/** `client event`: a whisper to the channel's other members. */
export interface ClientEventRequest {
  channel: string;
  event: string;
  data: unknown;
}

/** Events the server sends in the Echo dialect; broadcasts are `(eventName, channel, data)`. */
export interface EchoServerEvents {
  "presence:subscribed": (channel: string, members: EchoMember[]) => void;
  "presence:joining": (channel: string, member: EchoMember) => void;
  "presence:leaving": (channel: string, member: EchoMember) => void;
  subscription_error: (channel: string, status: number) => void;
}
