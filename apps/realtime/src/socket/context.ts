import type { AckErrorCode } from "@mechamap/protocol";
import type { TokenVerifier } from "../auth/jwt-token-verifier";
import type { ChannelDelivery } from "../core/channel-delivery";
import type { ChannelPresence } from "../core/channel-presence";
import type {
  BroadcastAuthorizer,
  ChannelAuthorizer,
  ChannelMessage,
  Clock,
  PresenceStore,
  SocketDirectory,
} from "../core/ports";
import type { RealtimeMetrics } from "../observability/metrics";
import type { Logger } from "../observability/logger";
import type { TokenExpiry } from "./token-expiry";

/** What the client-event handlers need; built once in the socket server factory. */
export interface SocketContext {
  delivery: ChannelDelivery;
  authorizer: ChannelAuthorizer;
  presence: PresenceStore;
  directory: SocketDirectory;
  verifier: TokenVerifier;
  metrics: RealtimeMetrics;
  logger: Logger;
  maxSubscriptions: number;
  clock: Clock;
  expiry: TokenExpiry;
  /** Laravel Echo's dialect; absent with ECHO_COMPAT=false. */
  echo?: EchoContext;
}

/** What Echo's `subscribe`, `unsubscribe` and `client event` need. */
export interface EchoContext {
  presence: ChannelPresence;
  /** Laravel's `/broadcasting/auth`; absent unless CHANNEL_AUTH=laravel: private-/presence- are then refused. */
  broadcastAuth?: BroadcastAuthorizer;
  /** Ephemeral publish to every node (whispers). */
  signal(message: ChannelMessage): Promise<void>;
  maxPayloadBytes: number;
}

/** A refusal that becomes `{ok:false,error:code}` in the ack. */
export class AckError extends Error {
  constructor(readonly code: AckErrorCode) {
    super(code);
  }
}
