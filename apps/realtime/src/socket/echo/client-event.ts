import { CLIENT_EVENT_PATTERN, echoChannelKind, EventData } from "@mechamap/protocol";
import type { EchoContext } from "../context";
import type { RealtimeSocket } from "../types";
import { isSubscribed } from "../subscriptions";

/**
 * Echo's whisper, `client event {channel, event: "client-*", data}`: relayed to the channel's other
 * sockets on every node, never back to the sender, and only on a private or presence channel the
 * sender has joined (a public channel has no authorized members to speak among). Anything else is
 * dropped without an answer, as Echo expects none. Rate-limited with the other client events.
 */
export async function clientEvent(echo: EchoContext, socket: RealtimeSocket, request: unknown): Promise<boolean> {
  if (typeof request !== "object" || request === null) return false;
  const { channel, event, data } = request as { channel?: unknown; event?: unknown; data?: unknown };
  if (typeof channel !== "string" || typeof event !== "string" || !CLIENT_EVENT_PATTERN.test(event)) return false;
  if (echoChannelKind(channel) === "public" || !isSubscribed(socket.data, channel)) return false;
  const size = Buffer.byteLength(JSON.stringify(data ?? null));
  if (size > echo.maxPayloadBytes) return false;
  await echo.signal({ channel, event, data: (data ?? null) as EventData, except: socket.id });
  return true;
}
