import type { AckErrorCode } from "./errors";
import type { ClientEventRequest, EchoServerEvents } from "./echo";

/** Names a broadcast may not use: Socket.IO gives them a meaning of its own. */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/** Backslashes too: Laravel names a broadcast after its class (`App\\Events\\OrderShipped`) by default. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_.:\\-]{1,128}$/;

/** Delivery metadata: the second argument of every broadcast event. */
export interface EventMeta {
  id: string;
  channel: string;
  /** Increasing per channel; send it back as `since` to recover what was missed. */
  offset: string;
  /** Milliseconds since the epoch when the cluster accepted the broadcast. */
  ts: number;
}

export type EventData = Record<string, unknown>;

export interface PresenceChange {
  user_id: string;
  at: string;
}

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: AckErrorCode };
export type AckCallback<T extends object = object> = (answer: Ack<T>) => void;

export interface ChannelTarget {
  thread_id?: string | number;
  channel?: string;
}

export interface SubscribeRequest extends ChannelTarget {
  since?: string;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: AckCallback<{ channel: string; recovered: boolean }>) => void;
  unsubscribe: (request: ChannelTarget, ack: AckCallback) => void;
  "presence:watch": (request: { user_ids: Array<string | number> }, ack: AckCallback<{ online: string[] }>) => void;
  "thread:viewers": (
    request: { thread_id: string | number },
    ack: AckCallback<{ count: number; user_ids: string[] }>,
  ) => void;
  "auth:refresh": (request: { token: string }, ack: AckCallback) => void;
  /** Echo's whisper (no ack). */
  "client event": (request: ClientEventRequest) => void;
}

/**
 * Events the server names itself. Broadcasts carry application-defined names with
 * arguments `(data: EventData, meta: EventMeta)`; see `BroadcastListener`.
 */
export interface ServerToClientEvents extends EchoServerEvents {
  user_online: (change: PresenceChange) => void;
  user_offline: (change: PresenceChange) => void;
  recovery_failed: (info: { channel: string }) => void;
  token_expired: (info: { code: "token_expired" }) => void;
}

export type BroadcastListener = (data: EventData, meta: EventMeta) => void;

/** `auth` of the Socket.IO handshake. */
export interface HandshakeAuth {
  token?: string;
  headers?: { Authorization?: string };
  /** Last seen offset per channel, e.g. `{"user.42": "<offset>"}`. */
  since?: Record<string, string>;
}
