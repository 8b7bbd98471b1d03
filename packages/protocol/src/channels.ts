/**
 * Channel grammar: `<type>.<name>[.<name>...]`, e.g. `user.42`, `thread.7`, `forum.3.pinned`.
 * The dot is required so a channel can never collide with a Socket.IO socket-id room
 * (20 characters of [A-Za-z0-9_-], no dot).
 */
const CHANNEL_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,31}(\.[A-Za-z0-9_-]{1,64}){1,3}$/;

/** Ids of users and threads: a positive integer, or a short token of [A-Za-z0-9_-]. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The pseudo-channel of `"to":"all"` broadcasts; outside the grammar, so no client can name it. */
export const ALL_CHANNEL = "all";

export function isChannelName(value: unknown): value is string {
  return typeof value === "string" && CHANNEL_PATTERN.test(value);
}

/** Normalises an id to its string form, or returns undefined when it is not a valid id. */
export function normaliseId(value: unknown): string | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  }
  return typeof value === "string" && ID_PATTERN.test(value) ? value : undefined;
}

export const userChannel = (userId: string): string => `user.${userId}`;
export const threadChannel = (threadId: string): string => `thread.${threadId}`;

/** Label for metrics: never the channel name itself (unbounded cardinality). */
export type ChannelType = "user" | "thread" | "all" | "other";

export function channelType(channel: string): ChannelType {
  if (channel === ALL_CHANNEL) return "all";
  if (channel.startsWith("user.")) return "user";
  if (channel.startsWith("thread.")) return "thread";
  return "other";
}

/** The user id of a `user.{id}` channel, or undefined for any other channel. */
export function userIdOfChannel(channel: string): string | undefined {
  return channel.startsWith("user.") ? channel.slice(5) : undefined;
}
