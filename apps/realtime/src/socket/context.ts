import type { AckErrorCode } from "@mechamap/protocol";
import type { TokenVerifier } from "../auth/jwt-token-verifier";
import type { ChannelAuthorizer, Clock, PresenceStore, SocketDirectory } from "../core/ports";
import type { RealtimeMetrics } from "../observability/metrics";
import type { Logger } from "../observability/logger";
import type { LocalDelivery } from "./local-delivery";
import type { TokenExpiry } from "./token-expiry";

/** What the client-event handlers need; built once in the socket server factory. */
export interface SocketContext {
  delivery: LocalDelivery;
  authorizer: ChannelAuthorizer;
  presence: PresenceStore;
  directory: SocketDirectory;
  verifier: TokenVerifier;
  metrics: RealtimeMetrics;
  logger: Logger;
  maxSubscriptions: number;
  clock: Clock;
  expiry: TokenExpiry;
}

/** A refusal that becomes `{ok:false,error:code}` in the ack. */
export class AckError extends Error {
  constructor(readonly code: AckErrorCode) {
    super(code);
  }
}
