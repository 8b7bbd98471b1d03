import type { Clock, RateLimitVerdict, RateLimiter } from "../core/ports";

/** Fixed one-second windows per key, in one process. */
export class MemoryRateLimiter implements RateLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async hit(key: string, limit: number): Promise<RateLimitVerdict> {
    const now = this.clock.now();
    const window = Math.floor(now / 1000);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return { allowed: count <= limit, retryAfterS: 1 };
  }
}
