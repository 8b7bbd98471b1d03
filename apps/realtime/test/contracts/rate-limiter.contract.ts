import type { RateLimiter } from "../../src/core/ports";

export function rateLimiterContract(name: string, make: () => Promise<RateLimiter> | RateLimiter): void {
  describe(`${name} RateLimiter contract`, () => {
    it("allows `limit` hits of a key in a second and refuses the rest, per key", async () => {
      const limiter = await make();
      const verdicts = await Promise.all(Array.from({ length: 8 }, () => limiter.hit("a", 5)));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
      expect(verdicts.find((v) => !v.allowed)?.retryAfterS).toBeGreaterThanOrEqual(1);
      expect((await limiter.hit("b", 5)).allowed).toBe(true);
    });
  });
}
