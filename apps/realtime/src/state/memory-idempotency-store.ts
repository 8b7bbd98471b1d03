import type { Clock, IdempotencyClaim, IdempotencyStore, IdempotentResult } from "../core/ports";

interface Claim {
  expiresAt: number;
  result?: IdempotentResult;
}

/** Idempotency keys of one process; expired keys are dropped as new ones arrive. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly clock: Clock) {}

  async claim(key: string, ttlS: number): Promise<IdempotencyClaim> {
    const now = this.clock.now();
    this.dropExpired(now);
    const existing = this.claims.get(key);
    if (existing && existing.expiresAt > now) return { acquired: false, previous: existing.result };
    this.claims.set(key, { expiresAt: now + ttlS * 1000 });
    return { acquired: true };
  }

  async complete(key: string, result: IdempotentResult, ttlS: number): Promise<void> {
    this.claims.set(key, { expiresAt: this.clock.now() + ttlS * 1000, result });
  }

  async release(key: string): Promise<void> {
    this.claims.delete(key);
  }

  /** Keys are kept in insertion order, which (one TTL for all) is expiry order. */
  private dropExpired(now: number): void {
    for (const [key, claim] of this.claims) {
      if (claim.expiresAt > now) return;
      this.claims.delete(key);
    }
  }
}
