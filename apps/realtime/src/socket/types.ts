import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "@mechamap/protocol";

export interface SocketData {
  /** Null for guests. */
  userId: string | null;
  /** When the token expires, in milliseconds since the epoch; null for guests. */
  expiresAt: number | null;
  /** Channels joined through `subscribe` (the user's own channel is not counted): one as its name, more as a Set (subscriptions.ts). */
  subscriptions?: string | Set<string>;
  /** Users this socket watches through `presence:watch`; made on first use. */
  watching?: Set<string>;
  /** True once the socket spoke Laravel Echo's dialect (an Echo-shaped subscribe): broadcasts go as `(channel, data)`. */
  echo?: true;
  /** The handshake's Cookie, kept (only with Echo and CHANNEL_AUTH=laravel) for Laravel's `/broadcasting/auth`. */
  cookie?: string;
  /** Presence channels (Echo) this socket is a member of: the member's user id and the join in flight. */
  presenceChannels?: Map<string, { userId: string; joined: Promise<unknown> }>;
  /** Client-event rate limit state; made on first use. */
  eventBudget?: { tokens: number; at: number };
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
