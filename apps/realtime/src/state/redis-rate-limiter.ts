import { systemClock, Clock, RateLimitVerdict, RateLimiter } from "../core/ports";
import { KeySpace } from "../cluster/key-space";
import type { RedisClient } from "../cluster/redis-connections";

/** Cluster-wide fixed one-second windows: INCR on a key per window, which expires by itself. */
export class RedisRateLimiter implements RateLimiter {
  private readonly keys: KeySpace;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.keys = new KeySpace(prefix);
  }

  async hit(key: string, limit: number): Promise<RateLimitVerdict> {
    const name = this.keys.rateWindow(key, Math.floor(this.clock.now() / 1000));
    const [[error, count]] = (await this.redis.multi().incr(name).expire(name, 2).exec()) ?? [[new Error("no reply")]];
    if (error) throw error;
    return { allowed: Number(count) <= limit, retryAfterS: 1 };
  }
}
