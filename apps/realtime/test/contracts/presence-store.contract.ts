import type { PresenceStore } from "../../src/core/ports";

/** The behaviour every PresenceStore must have; run against each implementation. */
export function presenceStoreContract(name: string, make: () => Promise<PresenceStore> | PresenceStore): void {
  describe(`${name} PresenceStore contract`, () => {
    let store: PresenceStore;
    beforeEach(async () => {
      store = await make();
    });

    it("reports the first socket as coming online, not the second", async () => {
      expect(await store.connect("1", "a", 1000)).toBe(true);
      expect(await store.connect("1", "b", 1001)).toBe(false);
      expect((await store.lookup(["1"])).get("1")).toMatchObject({ online: true, connections: 2 });
    });

    it("keeps a user online through the grace and returns them from takeExpired once, after it", async () => {
      await store.connect("1", "a", 1000);
      await store.disconnect("1", "a", 5000);
      expect(await store.takeExpired(4999)).toEqual([]);
      expect((await store.lookup(["1"])).get("1")).toMatchObject({ online: true, connections: 0 });
      expect(await store.takeExpired(5000)).toEqual(["1"]);
      expect(await store.takeExpired(6000)).toEqual([]);
      expect((await store.lookup(["1"])).get("1")).toEqual({ online: false, connections: 0, lastSeen: 5000 });
    });

    it("cancels the pending offline when a socket comes back within the grace", async () => {
      await store.connect("1", "a", 1000);
      await store.disconnect("1", "a", 5000);
      expect(await store.connect("1", "b", 2000)).toBe(false);
      expect(await store.takeExpired(9000)).toEqual([]);
    });

    it("ignores a disconnect of an unknown socket, and counts each socket once", async () => {
      await store.connect("1", "a", 1000);
      await store.connect("1", "a", 1000);
      await store.disconnect("1", "zzz", 2000);
      await store.disconnect("2", "a", 2000);
      expect((await store.lookup(["1"])).get("1")).toMatchObject({ online: true, connections: 1 });
      await store.disconnect("1", "a", 2000);
      expect(await store.takeExpired(2000)).toEqual(["1"]);
    });

    it("pages through online users in id order with a cursor", async () => {
      for (const id of ["3", "1", "2"]) await store.connect(id, `s${id}`, 1000);
      const first = await store.listOnline(2, null);
      expect(first).toEqual({ count: 3, userIds: ["1", "2"], nextCursor: "2" });
      expect(await store.listOnline(2, first.nextCursor)).toEqual({ count: 3, userIds: ["3"], nextCursor: null });
    });

    it("says unknown users are offline and never seen", async () => {
      expect((await store.lookup(["404"])).get("404")).toEqual({ online: false, connections: 0, lastSeen: null });
    });

    it("holds places up to the limit, counting connected sockets and places alike", async () => {
      await store.connect("1", "a", 1000);
      expect(await store.reserve("1", "b", 3, 1000, 11_000)).toBe(true);
      expect(await store.reserve("1", "c", 3, 1000, 11_000)).toBe(true);
      expect(await store.reserve("1", "d", 3, 1000, 11_000)).toBe(false);
      expect(await store.reserve("2", "e", 3, 1000, 11_000)).toBe(true);
    });

    it("turns a place into a socket on connect, and frees a place that was never used when it runs out", async () => {
      expect(await store.reserve("1", "a", 2, 1000, 11_000)).toBe(true);
      expect(await store.reserve("1", "b", 2, 1000, 11_000)).toBe(true);
      await store.connect("1", "a", 1500);
      expect(await store.reserve("1", "c", 2, 2000, 12_000)).toBe(false);
      // "b" never connected: its place ends at 11 000.
      expect(await store.reserve("1", "c", 2, 11_000, 21_000)).toBe(true);
      expect((await store.lookup(["1"])).get("1")).toMatchObject({ connections: 1 });
    });

    it("gives a place back when a socket disconnects", async () => {
      await store.reserve("1", "a", 1, 1000, 11_000);
      await store.connect("1", "a", 1000);
      expect(await store.reserve("1", "b", 1, 1000, 11_000)).toBe(false);
      await store.disconnect("1", "a", 6000);
      expect(await store.reserve("1", "b", 1, 1000, 11_000)).toBe(true);
    });
  });
}
