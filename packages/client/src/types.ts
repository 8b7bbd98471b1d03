import type { EventData, EventMeta } from "@mechamap/protocol";

export type { EventData, EventMeta };

/** `connecting` (first connection or a reconnection under way), `connected`, `disconnected`, `closed` (by `close()`). */
export type ClientState = "connecting" | "connected" | "disconnected" | "closed";

/** The part of the Web Storage API the client needs; `sessionStorage` and `localStorage` fit. */
export interface OffsetStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ConnectOptions {
  /** The realtime server (nginx in front of the nodes, or one node), e.g. `https://realtime.forum.example`. */
  url: string;
  /** The JWT Laravel issued (RealtimeTokenIssuer). Give `getToken` instead to have it renewed. */
  token?: string;
  /**
   * Returns a fresh JWT (sync or async), e.g. by calling a Laravel route. Called for the first token,
   * again shortly before the token's `exp` (then sent with `auth:refresh`), and after a `token_expired`.
   */
  getToken?: () => string | Promise<string>;
  /**
   * Where the newest offset of each channel is kept, so a reload can recover what it missed.
   * Default: `sessionStorage` in a browser, memory elsewhere. `false`: nothing kept beyond this client.
   */
  storage?: OffsetStorage | false;
  /** Socket.IO path. Default `/socket.io`. */
  path?: string;
  /** Socket.IO transports. Default Socket.IO's: long-polling first, then an upgrade to WebSocket. */
  transports?: Array<"websocket" | "polling">;
}

/** A broadcast handed to the app: `data` as Laravel sent it, `meta = {id, channel, offset, ts}`. */
export type EventListener = (data: EventData, meta: EventMeta) => void;

/** Recovery of `channel` was impossible (the gap is older than the server's history): refetch from Laravel. */
export interface GapInfo {
  channel: string;
}

export interface PresenceUpdate {
  user_id: string;
  online: boolean;
  at: string;
}

export type PresenceListener = (update: PresenceUpdate) => void;

/** A channel as `subscribe` takes it: `"thread.7"`, `{ thread_id: 7 }` or `{ channel: "forum.3" }`. */
export type ChannelRef = string | { thread_id: string | number } | { channel: string };
