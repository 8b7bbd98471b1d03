import type { SocketData } from "./types";

/**
 * The channels a socket joined through `subscribe` (Echo's too). Most sockets hold one (the thread
 * on screen): it is kept as the channel's name, and only a second one makes a Set. A Set of one costs
 * ~150 B of heap per socket (its hash table), the name nothing (the string is the room's key too).
 */
export function isSubscribed(data: SocketData, channel: string): boolean {
  const held = data.subscriptions;
  return typeof held === "string" ? held === channel : held !== undefined && held.has(channel);
}

export function subscriptionCount(data: SocketData): number {
  const held = data.subscriptions;
  return typeof held === "string" ? 1 : (held?.size ?? 0);
}

export function addSubscription(data: SocketData, channel: string): void {
  const held = data.subscriptions;
  if (held === undefined) data.subscriptions = channel;
  else if (typeof held !== "string") held.add(channel);
  else if (held !== channel) data.subscriptions = new Set([held, channel]);
}

/** True when the socket held the channel. */
export function removeSubscription(data: SocketData, channel: string): boolean {
  const held = data.subscriptions;
  if (typeof held !== "string") return held !== undefined && held.delete(channel);
  if (held !== channel) return false;
  data.subscriptions = undefined;
  return true;
}
