import { EVENT_NAME_PATTERN, RESERVED_EVENT_NAMES, isChannelName, isEchoChannelName } from "@mechamap/protocol";
import type { BroadcastCommand } from "./broadcast-request";
import { forbiddenKeyIn } from "./forbidden-keys";

const SOCKET_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * One message of Laravel's RedisBroadcaster, `{"event","data","socket"}` published on the channel's
 * name after Laravel's prefix, as a broadcast to that channel: `socket` (Laravel's `toOthers()`) is the
 * socket that must not get it. Parsed defensively: anyone who can publish on that Redis can send
 * anything, and a bad message must cost a log line, never the node.
 */
export function parseLaravelMessage(
  channel: string,
  payload: string,
  maxBytes: number,
): BroadcastCommand | { problem: string } {
  if (!isEchoChannelName(channel) && !isChannelName(channel)) return { problem: "channel name not accepted" };
  if (Buffer.byteLength(payload) > maxBytes) return { problem: "payload too large" };
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return { problem: "payload is not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { problem: "payload is not an object" };
  if (forbiddenKeyIn(payload, body) !== undefined) return { problem: "forbidden key" };
  const { event, data, socket } = body as { event?: unknown; data?: unknown; socket?: unknown };
  if (typeof event !== "string" || !EVENT_NAME_PATTERN.test(event) || RESERVED_EVENT_NAMES.has(event)) {
    return { problem: "event name not accepted" };
  }
  // PHP encodes an empty array as [] (a broadcastWith() that returned nothing).
  const empty = Array.isArray(data) && data.length === 0;
  if (!empty && (typeof data !== "object" || data === null || Array.isArray(data))) {
    return { problem: "data is not an object" };
  }
  if (socket !== undefined && socket !== null && (typeof socket !== "string" || !SOCKET_ID_PATTERN.test(socket))) {
    return { problem: "socket is not a socket id" };
  }
  return {
    event,
    target: "channel",
    channels: [channel],
    data: empty ? {} : (data as Record<string, unknown>),
    ...(typeof socket === "string" ? { except: socket } : {}),
  };
}
