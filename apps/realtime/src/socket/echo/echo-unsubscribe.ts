import type { EchoContext } from "../context";
import type { RealtimeSocket } from "../types";
import { removeSubscription } from "../subscriptions";

/** Echo's `unsubscribe {channel}` (no ack): leaves the room and, for a presence channel, the members. */
export async function echoUnsubscribe(echo: EchoContext, socket: RealtimeSocket, request: { channel?: unknown }) {
  const { channel } = request;
  if (typeof channel !== "string" || !removeSubscription(socket.data, channel)) return;
  void socket.leave(channel);
  await leavePresence(echo, socket, channel);
}

/**
 * Counts the socket out of one presence channel, or of all of them (on disconnect); waits for a join
 * still in flight, so that the leave cannot overtake it in the store.
 */
export async function leavePresence(echo: EchoContext, socket: RealtimeSocket, only?: string): Promise<void> {
  const memberships = socket.data.presenceChannels;
  if (!memberships) return;
  const channels = only === undefined ? [...memberships.keys()] : [only];
  await Promise.all(
    channels.map(async (channel) => {
      const membership = memberships.get(channel);
      if (!membership) return;
      memberships.delete(channel);
      await membership.joined.catch(() => undefined);
      await echo.presence.leave(channel, membership.userId, socket.id);
    }),
  );
}
