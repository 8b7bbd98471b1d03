import { EventFilter } from "./event-filter";
import { OffsetStore } from "./offset-store";
import { memoryStorage } from "./storage";

const meta = (id: string, offset: string, channel = "thread.7") => ({ id, channel, offset, ts: 0 });

describe("EventFilter", () => {
  it("lets each event through once, in offset order, and keeps the newest offset per channel", () => {
    const storage = memoryStorage();
    const store = new OffsetStore(storage);
    store.useScope("1");
    const filter = new EventFilter(store);
    expect(filter.accept(meta("a", "5-1"))).toBe(true);
    expect(filter.accept(meta("a", "5-1"))).toBe(false); // the same event again
    expect(filter.accept(meta("b", "5-3"))).toBe(true);
    expect(filter.accept(meta("c", "5-2"))).toBe(false); // older than what was handed over
    expect(filter.accept(meta("b", "5-4"))).toBe(false); // an id already seen
    expect(filter.accept(meta("d", "6-0"))).toBe(true); // a new epoch sorts after
    expect(filter.accept(meta("e", "1-0", "user.1"))).toBe(true); // channels are independent
    expect(storage.getItem("mechamap-realtime:1:thread.7")).toBe("6-0");
    expect(storage.getItem("mechamap-realtime:1:user.1")).toBe("1-0");
  });

  it("starts from the stored offset (after a reload) and forgets a channel on request", () => {
    const storage = memoryStorage();
    storage.setItem("mechamap-realtime:1:thread.7", "5-3");
    const store = new OffsetStore(storage);
    store.useScope("1");
    const filter = new EventFilter(store);
    expect(filter.accept(meta("x", "5-3"))).toBe(false);
    expect(filter.accept(meta("y", "5-4"))).toBe(true);
    filter.forget("thread.7");
    expect(storage.getItem("mechamap-realtime:1:thread.7")).toBeNull();
    expect(filter.accept(meta("z", "1-0"))).toBe(true);
  });

  it("keeps the offsets of each user apart", () => {
    const storage = memoryStorage();
    const store = new OffsetStore(storage);
    store.useScope("1");
    store.set("all", "5-1");
    store.useScope("2");
    expect(store.get("all")).toBeUndefined();
    store.useScope("1");
    expect(store.get("all")).toBe("5-1");
  });
});
