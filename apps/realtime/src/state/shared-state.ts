import type { ServerOptions } from "socket.io";
import type {
  BackendHealth,
  Broadcaster,
  ChannelInterest,
  ChannelMembers,
  History,
  LaravelInbox,
  PresenceStore,
  RateLimiter,
} from "../core/ports";

/** Every piece of state a node shares with the cluster: memory in embedded mode, Redis in cluster mode. */
export interface SharedState {
  /** Also the idempotency keys of broadcasts (`publishOnce`), remembered with the history. */
  broadcaster: Broadcaster;
  history: History;
  /** Told which channels have a member on this node (the Redis bus subscribes to those only). */
  interest: ChannelInterest;
  presence: PresenceStore;
  /** Members of Echo's presence channels. */
  channelMembers: ChannelMembers;
  /** Laravel's Redis broadcasts (cluster mode with ECHO_COMPAT); embedded mode has no Redis to read. */
  laravelInbox?: LaravelInbox;
  rateLimiter: RateLimiter;
  /** The API key's limit, judged on every broadcast call; `rateLimiter` when absent. */
  apiRateLimiter?: RateLimiter;
  health: BackendHealth;
  /** The Socket.IO adapter for cluster-wide socket requests; the in-memory default when absent. */
  adapter?: ServerOptions["adapter"];
  close(): Promise<void>;
}
