import type { IdempotencyClaim, IdempotencyStore, IdempotentResult } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";

const PENDING = "pending";

/** Cluster-wide idempotency keys: SET NX EX claims, the result stored over the claim. */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async claim(key: string, ttlS: number): Promise<IdempotencyClaim> {
    const name = this.keyOf(key);
    if ((await this.redis.set(name, PENDING, "EX", ttlS, "NX")) === "OK") return { acquired: true };
    const stored = await this.redis.get(name);
    if (stored === null || stored === PENDING) return { acquired: false };
    return { acquired: false, previous: JSON.parse(stored) as IdempotentResult };
  }

  async complete(key: string, result: IdempotentResult, ttlS: number): Promise<void> {
    await this.redis.set(this.keyOf(key), JSON.stringify(result), "EX", ttlS);
  }

  async release(key: string): Promise<void> {
    await this.redis.del(this.keyOf(key));
  }

  private keyOf(key: string): string {
    return `${this.prefix}idem:${key}`;
  }
}
