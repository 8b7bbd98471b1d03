import type { IdempotencyStore } from "../../src/core/ports";

export function idempotencyStoreContract(
  name: string,
  make: () => Promise<IdempotencyStore> | IdempotencyStore,
  advance: (ms: number) => Promise<void> | void,
): void {
  describe(`${name} IdempotencyStore contract`, () => {
    let store: IdempotencyStore;
    beforeEach(async () => {
      store = await make();
    });

    it("lets exactly one of ten concurrent claims of a key through", async () => {
      const claims = await Promise.all(Array.from({ length: 10 }, () => store.claim("k", 60)));
      expect(claims.filter((claim) => claim.acquired)).toHaveLength(1);
    });

    it("hands the first result to later claims", async () => {
      await store.claim("k", 60);
      const result = { id: "k", channels: [{ channel: "user.1", offset: "1-1" }] };
      await store.complete("k", result, 60);
      expect(await store.claim("k", 60)).toEqual({ acquired: false, previous: result });
    });

    it("frees a released key for a retry", async () => {
      await store.claim("k", 60);
      await store.release("k");
      expect(await store.claim("k", 60)).toEqual({ acquired: true });
    });

    it("forgets a key after its TTL", async () => {
      await store.claim("k", 1);
      await advance(1100);
      expect(await store.claim("k", 1)).toEqual({ acquired: true });
    });
  });
}
