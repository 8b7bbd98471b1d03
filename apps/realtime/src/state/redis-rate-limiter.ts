import { systemClock, Clock, RateLimitVerdict, RateLimiter } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";

/** Cluster-wide fixed one-second windows: INCR on a key per window, which expires by itself. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async hit(key: string, limit: number): Promise<RateLimitVerdict> {
    const window = Math.floor(this.clock.now() / 1000);
    const name = `${this.prefix}rl:${key}:${window}`;
    const [[error, count]] = (await this.redis.multi().incr(name).expire(name, 2).exec()) ?? [[new Error("no reply")]];
    if (error) throw error;
    return { allowed: Number(count) <= limit, retryAfterS: 1 };
  }
}
