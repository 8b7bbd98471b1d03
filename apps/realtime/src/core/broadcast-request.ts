import {
  ALL_CHANNEL,
  EVENT_NAME_PATTERN,
  RESERVED_EVENT_NAMES,
  ValidationDetail,
  isChannelName,
  isEchoChannelName,
  normaliseId,
  threadChannel,
  userChannel,
} from "@mechamap/protocol";
import type { EventData } from "@mechamap/protocol";

export type BroadcastTarget = "user" | "users" | "thread" | "channel" | "all";

/** A validated broadcast: what to send, to which channels. */
export interface BroadcastCommand {
  event: string;
  target: BroadcastTarget;
  channels: string[];
  data: EventData;
  /** Idempotency key, from the body's `id` or the `Idempotency-Key` header. */
  id?: string;
  /** Socket that must not get it (Laravel's `toOthers()`): body `socket_id` or header `X-Socket-ID`. */
  except?: string;
}

export const MAX_USER_IDS = 1000;
export const MAX_BATCH = 100;
const ID_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;
/** Socket.IO ids (20 of [A-Za-z0-9_-]), and Pusher-style `1234.5678` ones that Laravel apps may pass on. */
const SOCKET_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Validates one broadcast body (seed-compatible) and lists every problem found,
 * with `prefix` before each path (used by batches).
 */
export function parseBroadcast(
  body: unknown,
  problems: ValidationDetail[],
  prefix = "",
  idempotencyKey?: string,
  socketIdHeader?: string,
): BroadcastCommand | undefined {
  const before = problems.length;
  const fail = (path: string, message: string): void => void problems.push({ path: prefix + path, message });
  if (!isPlainObject(body)) {
    fail(prefix ? "" : "body", "must be a JSON object");
    return undefined;
  }

  const event = body.event;
  if (typeof event !== "string" || !EVENT_NAME_PATTERN.test(event)) {
    fail("event", "must be 1-128 characters of A-Z a-z 0-9 _ . : - \\");
  } else if (RESERVED_EVENT_NAMES.has(event)) {
    fail("event", `"${event}" is reserved by Socket.IO`);
  }

  if (!isPlainObject(body.data)) fail("data", "must be a JSON object");

  const id = body.id ?? idempotencyKey;
  if (id !== undefined && (typeof id !== "string" || !ID_KEY_PATTERN.test(id))) {
    fail(body.id !== undefined ? "id" : "Idempotency-Key", "must be 1-128 printable ASCII characters");
  }

  const except = body.socket_id ?? socketIdHeader;
  if (except !== undefined && except !== null && (typeof except !== "string" || !SOCKET_ID_PATTERN.test(except))) {
    fail(body.socket_id !== undefined ? "socket_id" : "X-Socket-ID", "must be a socket id (1-64 of [A-Za-z0-9_.-])");
  }

  const channels = parseTarget(body, fail);
  if (problems.length > before || !channels) return undefined;
  return {
    event: event as string,
    target: body.to as BroadcastTarget,
    channels,
    data: body.data as EventData,
    ...(id !== undefined ? { id: id as string } : {}),
    ...(typeof except === "string" ? { except } : {}),
  };
}

function parseTarget(
  body: Record<string, unknown>,
  fail: (path: string, message: string) => void,
): string[] | undefined {
  switch (body.to) {
    case "user": {
      const id = normaliseId(body.user_id);
      if (id === undefined) return void fail("user_id", "must be a positive integer or 1-64 of [A-Za-z0-9_-]");
      return [userChannel(id)];
    }
    case "thread": {
      const id = normaliseId(body.thread_id);
      if (id === undefined) return void fail("thread_id", "must be a positive integer or 1-64 of [A-Za-z0-9_-]");
      return [threadChannel(id)];
    }
    case "users":
      return parseUserIds(body.user_ids, fail);
    case "channel":
      // Ours (`forum.3`) or Laravel's (`news`, `private-orders.5`, `presence-chat.1`), for Echo clients.
      if (!isChannelName(body.channel) && !isEchoChannelName(body.channel)) {
        return void fail(
          "channel",
          "must be a channel name such as forum.3 or private-orders.5 (letters, digits, _ - . : = @)",
        );
      }
      return [body.channel];
    case "all":
      return [ALL_CHANNEL];
    default:
      return void fail("to", 'must be one of "user", "users", "thread", "channel", "all"');
  }
}

function parseUserIds(value: unknown, fail: (path: string, message: string) => void): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_USER_IDS) {
    return void fail("user_ids", `must be an array of 1-${MAX_USER_IDS} user ids`);
  }
  const channels = new Set<string>();
  let valid = true;
  value.forEach((raw, index) => {
    const id = normaliseId(raw);
    if (id === undefined) {
      valid = false;
      fail(`user_ids[${index}]`, "must be a positive integer or 1-64 of [A-Za-z0-9_-]");
    } else channels.add(userChannel(id));
  });
  return valid ? [...channels] : undefined;
}

export function parseBatch(body: unknown, problems: ValidationDetail[]): BroadcastCommand[] {
  if (!isPlainObject(body) || !Array.isArray(body.broadcasts)) {
    problems.push({ path: "broadcasts", message: "must be an array of broadcasts" });
    return [];
  }
  if (body.broadcasts.length === 0 || body.broadcasts.length > MAX_BATCH) {
    problems.push({ path: "broadcasts", message: `must hold 1-${MAX_BATCH} broadcasts` });
    return [];
  }
  const commands: BroadcastCommand[] = [];
  body.broadcasts.forEach((item, index) => {
    const command = parseBroadcast(item, problems, `broadcasts[${index}].`);
    if (command) commands.push(command);
  });
  return commands;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
