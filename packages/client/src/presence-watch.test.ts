import { PresenceWatch } from "./presence-watch";

describe("PresenceWatch", () => {
  it("keeps a change heard while presence:watch was on its way over the answer's older snapshot", () => {
    const watch = new PresenceWatch();
    const seen: boolean[] = [];
    const ids = watch.add([2, 3], ({ online }) => seen.push(online));
    const heard = watch.ask();
    // The server looked up before user 2 came: the event comes first, the answer says offline.
    watch.changed("2", true, "2026-12-04T00:00:00Z");
    watch.answered(ids, ["3"], false, heard);
    expect(watch.isOnline("2")).toBe(true);
    expect(watch.isOnline("3")).toBe(true);
    expect(seen).toEqual([true]);
  });

  it("takes the answer for users nothing was heard of, and announces it after a reconnect", () => {
    const watch = new PresenceWatch();
    const seen: Array<{ user_id: string; online: boolean }> = [];
    const ids = watch.add(["4"], ({ user_id, online }) => seen.push({ user_id, online }));
    watch.answered(ids, ["4"], false, watch.ask());
    expect(seen).toEqual([]);
    const heard = watch.ask();
    watch.answered(ids, [], true, heard);
    expect(watch.isOnline("4")).toBe(false);
    expect(seen).toEqual([{ user_id: "4", online: false }]);
    // A finished question no longer collects changes.
    watch.changed("4", true, "2026-12-04T00:00:00Z");
    expect(heard.size).toBe(0);
  });
});
