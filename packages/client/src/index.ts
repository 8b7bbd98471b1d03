import { RealtimeClient } from "./client.js";
import type { ConnectOptions } from "./types.js";

/** Connects to MechaMap Realtime (SPEC 13). The browser bundle exposes it as `MechaMapRealtime.connect`. */
export function connect(options: ConnectOptions): RealtimeClient {
  return new RealtimeClient(options);
}

export { RealtimeClient } from "./client.js";
export { RealtimeClientError } from "./client-error.js";
export { Subscription } from "./subscription.js";
export { KEY_PREFIX } from "./offset-store.js";
export type * from "./types.js";
