import {
  systemClock,
  systemScheduler,
  type Cancel,
  type Clock,
  type RateLimiter,
  type RateLimitVerdict,
  type Scheduler,
} from "../core/ports";
import { KeySpace } from "../cluster/key-space";
import type { RedisClient } from "../cluster/redis-connections";

/** How often a node adds its own hits to the shared counters and learns the cluster's totals. */
export const RATE_FLUSH_MS = 100;

/** One key's one-second window as this node knows it. */
interface Window {
  second: number;
  /** This node's hits in the window. */
  mine: number;
  /** How many of them are in Redis already (or on their way). */
  sent: number;
  /** The other nodes' hits, as of the last flush's answer. */
  others: number;
}

/**
 * A cluster-wide requests-per-second limit that costs no Redis round trip per request (the API
 * key's limit is checked on every broadcast call; a round trip there was ~14 % of a node's CPU in
 * the bench's S5). Each node counts its own hits of a one-second window and, every RATE_FLUSH_MS,
 * adds them to the window's shared counter (INCRBY on KeySpace's `rateWindow`, as RedisRateLimiter), learning
 * the cluster's total from the answer. A request is judged on the others' last known hits plus this
 * node's own: the cluster may go over a limit by what the other nodes take within one flush, and a
 * node that cannot reach Redis judges on its own count. Good for a flood guard, not for billing.
 */
export class BatchedRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly stopFlushing: Cancel;
  private readonly keys: KeySpace;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly clock: Clock = systemClock,
    scheduler: Scheduler = systemScheduler,
  ) {
    this.keys = new KeySpace(prefix);
    this.stopFlushing = scheduler.every(RATE_FLUSH_MS, () => this.flush());
  }

  hit(key: string, limit: number): Promise<RateLimitVerdict> {
    const second = Math.floor(this.clock.now() / 1000);
    let window = this.windows.get(key);
    if (window?.second !== second) {
      window = { second, mine: 0, sent: 0, others: 0 };
      this.windows.set(key, window);
    }
    window.mine++;
    return Promise.resolve({ allowed: window.others + window.mine <= limit, retryAfterS: 1 });
  }

  /** Sends each window's new hits; resolves when the answers are in (tests await it). */
  async flush(): Promise<void> {
    const second = Math.floor(this.clock.now() / 1000);
    const sends: Array<Promise<void>> = [];
    for (const [key, window] of this.windows) {
      if (window.second < second - 1) {
        this.windows.delete(key);
        continue;
      }
      const delta = window.mine - window.sent;
      // A window of this second is asked even with nothing new: the others' hits are what it learns.
      if (delta === 0 && window.second !== second) continue;
      window.sent += delta;
      const sentSoFar = window.sent;
      const name = this.keys.rateWindow(key, window.second);
      // (INCRBY 0 would create a key without an expiry: nothing new is a GET.)
      const counted = delta > 0 ? this.redis.incrby(name, delta) : this.redis.get(name).then(Number);
      if (delta > 0) this.redis.expire(name, 2).catch(() => undefined);
      sends.push(
        counted.then(
          (total) => {
            window.others = Math.max(window.others, total - sentSoFar);
          },
          () => {
            // Not counted: sent again with the next flush.
            window.sent -= delta;
          },
        ),
      );
    }
    await Promise.all(sends);
  }

  stop(): void {
    this.stopFlushing();
  }
}
