import { systemScheduler } from "../core/ports";
import type { Clock, Scheduler } from "../core/ports";
import { MemoryHistory } from "../history/memory-history";
import { MemoryPresenceStore } from "../presence/memory-presence-store";
import { MemoryChannelMembers } from "../presence/memory-channel-members";
import { MemoryBroadcaster } from "./memory-broadcaster";
import { MemoryRateLimiter } from "./memory-rate-limiter";
import type { SharedState } from "./shared-state";

export interface EmbeddedStateOptions {
  historySize: number;
  historyTtlS: number;
  clock: Clock;
  scheduler?: Scheduler;
}

/** One node alone: every shared part in this process's memory. */
export function createEmbeddedState(options: EmbeddedStateOptions): SharedState {
  const { clock } = options;
  const history = new MemoryHistory({ size: options.historySize, ttlS: options.historyTtlS, clock });
  const stopSweeper = (options.scheduler ?? systemScheduler).every(30_000, () => history.sweep());
  return {
    broadcaster: new MemoryBroadcaster(history, clock),
    history,
    // One process: every message is already here.
    interest: { hold: () => Promise.resolve(), release: () => undefined },
    presence: new MemoryPresenceStore(),
    channelMembers: new MemoryChannelMembers(),
    rateLimiter: new MemoryRateLimiter(clock),
    health: { mode: "embedded", state: () => "ok", acceptsBroadcasts: () => true },
    close: async () => stopSweeper(),
  };
}
