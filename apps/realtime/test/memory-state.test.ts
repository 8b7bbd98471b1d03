import { MemoryHistory } from "../src/history/memory-history";
import { MemoryPresenceStore } from "../src/presence/memory-presence-store";
import { MemoryBroadcaster } from "../src/state/memory-broadcaster";
import { MemoryRateLimiter } from "../src/state/memory-rate-limiter";
import { historyContract } from "./contracts/history.contract";
import { idempotentPublishContract } from "./contracts/idempotent-publish.contract";
import { presenceStoreContract } from "./contracts/presence-store.contract";
import { channelMembersContract } from "./contracts/channel-members.contract";
import { MemoryChannelMembers } from "../src/presence/memory-channel-members";
import { rateLimiterContract } from "./contracts/rate-limiter.contract";

/** A clock the tests move by hand. */
const clock = { time: 1_700_000_000_000, now: () => clock.time };

presenceStoreContract("memory", () => new MemoryPresenceStore());
channelMembersContract("memory", () => new MemoryChannelMembers());
rateLimiterContract("memory", () => new MemoryRateLimiter(clock));
historyContract("memory", (size) => {
  const history = new MemoryHistory({ size, ttlS: 600, clock });
  return { history, broadcaster: new MemoryBroadcaster(history, clock) };
});
idempotentPublishContract(
  "memory",
  () => {
    const history = new MemoryHistory({ size: 100, ttlS: 600, clock });
    return { history, broadcaster: new MemoryBroadcaster(history, clock) };
  },
  (ms) => void (clock.time += ms),
);

describe("memory history expiry", () => {
  it("forgets messages older than HISTORY_TTL_S and then says recovered:false", async () => {
    const history = new MemoryHistory({ size: 10, ttlS: 60, clock });
    const first = history.append({ channel: "thread.1", event: "e", data: {}, id: "1" });
    clock.time += 30_000;
    history.append({ channel: "thread.1", event: "e", data: {}, id: "2" });
    expect((await history.since("thread.1", first.offset)).messages).toHaveLength(1);
    clock.time += 40_000;
    const replay = await history.since("thread.1", "0-0");
    expect(replay.recovered).toBe(false);
    expect((await history.since("thread.1", first.offset)).messages.map((m) => m.meta?.id)).toEqual(["2"]);
    clock.time += 60_000;
    history.sweep();
    expect((await history.since("thread.1", first.offset)).recovered).toBe(false);
  });
});
