import type { ChannelMembers } from "../../src/core/ports";

const alice = { user_id: 1, user_info: { name: "Alice" } };
const bob = { user_id: "2", user_info: { name: "Bob" } };

/** The behaviour every ChannelMembers (Echo presence channels) must have; run against each implementation. */
export function channelMembersContract(name: string, make: () => Promise<ChannelMembers> | ChannelMembers): void {
  describe(`${name} ChannelMembers contract`, () => {
    let store: ChannelMembers;
    beforeEach(async () => {
      store = await make();
    });

    it("reports a user's first socket in a channel as joining, not the second, and lists each user once", async () => {
      expect(await store.join("presence-chat.1", alice, "a1", 1000)).toBe(true);
      expect(await store.join("presence-chat.1", alice, "a2", 1000)).toBe(false);
      expect(await store.join("presence-chat.1", bob, "b1", 1000)).toBe(true);
      expect(await store.join("presence-chat.2", alice, "a1", 1000)).toBe(true);
      const members = await store.list("presence-chat.1");
      expect(members.sort((x, y) => String(x.user_id).localeCompare(String(y.user_id)))).toEqual([alice, bob]);
    });

    it("keeps a member through the grace and returns the leave once, after it, with the member", async () => {
      await store.join("presence-chat.1", alice, "a1", 1000);
      await store.join("presence-chat.1", alice, "a2", 1000);
      await store.leave("presence-chat.1", "1", "a1", 5000);
      await store.leave("presence-chat.1", "1", "a2", 5000);
      expect(await store.takeExpired(4999)).toEqual([]);
      expect(await store.list("presence-chat.1")).toEqual([alice]);
      expect(await store.takeExpired(5000)).toEqual([{ channel: "presence-chat.1", member: alice }]);
      expect(await store.takeExpired(9000)).toEqual([]);
      expect(await store.list("presence-chat.1")).toEqual([]);
    });

    it("cancels the leave when a socket comes back within the grace, and reports no join", async () => {
      await store.join("presence-chat.1", alice, "a1", 1000);
      await store.leave("presence-chat.1", "1", "a1", 5000);
      expect(await store.join("presence-chat.1", alice, "a3", 2000)).toBe(false);
      expect(await store.takeExpired(9000)).toEqual([]);
    });

    it("ignores a leave of an unknown socket and counts each socket once", async () => {
      await store.join("presence-chat.1", alice, "a1", 1000);
      await store.join("presence-chat.1", alice, "a1", 1000);
      await store.leave("presence-chat.1", "1", "zzz", 2000);
      await store.leave("presence-chat.9", "1", "a1", 2000);
      expect(await store.takeExpired(9000)).toEqual([]);
      await store.leave("presence-chat.1", "1", "a1", 2000);
      expect(await store.takeExpired(9000)).toEqual([{ channel: "presence-chat.1", member: alice }]);
    });
  });
}
