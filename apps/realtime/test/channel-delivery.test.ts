import {
  CATCH_UP_WAIT_MS,
  ChannelDelivery,
  READ_RETRY_FIRST_MS,
  READ_RETRY_MAX_MS,
  TRAILING_MAX_MS,
} from "../src/core/channel-delivery";
import { compareOffsets } from "../src/core/offsets";
import type { ChannelMessage, History, LocalSockets, Replay, WriteCounts } from "../src/core/ports";
import { ManualTime } from "./helpers/manual-time";

// The core's delivery with fakes around it: a history whose reads the test answers, sockets that
// record what they are written, and time that moves when the test says. No socket, no Redis, no sleep.

const CHANNEL = "thread.7";

function message(i: number, channel = CHANNEL): ChannelMessage {
  return { channel, event: "new_reply", data: { i }, meta: { id: `m${i}`, channel, offset: `${1000 + i}-0`, ts: 0 } };
}

/** Stored messages; a read sees what was stored when it was sent (as Redis runs it), and answers when told. */
class FakeHistory implements History {
  private readonly stored: ChannelMessage[] = [];
  private readonly held: Array<{ answer: () => void; fail: () => void }> = [];
  /** `answer`: at once; `hold`: when the test calls `answerNext`/`failNext`; `fail`: at once, with an error. */
  mode: "answer" | "hold" | "fail" = "answer";
  reads: string[] = [];

  store(...messages: ChannelMessage[]): void {
    this.stored.push(...messages);
  }

  since(channel: string, offset: string): Promise<Replay> {
    this.reads.push(offset);
    const messages = this.stored.filter((m) => m.channel === channel && compareOffsets(m.meta!.offset, offset) > 0);
    const replay = { recovered: true, messages };
    if (this.mode === "answer") return Promise.resolve(replay);
    if (this.mode === "fail") return Promise.reject(new Error("CLUSTERDOWN The cluster is down"));
    return new Promise((resolve, reject) =>
      this.held.push({ answer: () => resolve(replay), fail: () => reject(new Error("Command timed out")) }),
    );
  }

  get waiting(): number {
    return this.held.length;
  }

  answerNext(): void {
    this.held.shift()!.answer();
  }

  failNext(): void {
    this.held.shift()!.fail();
  }
}

/** Sockets by id, rooms by channel, and what each socket was written (the `i` of each message, in order). */
class FakeSockets implements LocalSockets {
  private readonly rooms = new Map<string, Set<string>>();
  private readonly connected = new Set<string>();
  readonly got = new Map<string, number[]>();

  connect(...ids: string[]): void {
    for (const id of ids) {
      this.connected.add(id);
      this.got.set(id, []);
    }
  }

  disconnect(id: string): void {
    this.connected.delete(id);
    for (const [channel, members] of this.rooms) {
      members.delete(id);
      if (members.size === 0) this.rooms.delete(channel);
    }
  }

  members(channel: string): Iterable<string> {
    return this.rooms.get(channel) ?? [];
  }

  everyone(): Iterable<string> {
    return this.connected;
  }

  channels(): Iterable<string> {
    return this.rooms.keys();
  }

  write(socketIds: Iterable<string>, message: ChannelMessage, skip?: ReadonlySet<string>): WriteCounts {
    let direct = 0;
    for (const id of socketIds) {
      if (skip?.has(id) || id === message.except || !this.connected.has(id)) continue;
      this.got.get(id)!.push((message.data as { i: number }).i);
      direct++;
    }
    return { direct, queued: 0 };
  }

  join(socketId: string, channel: string): boolean {
    if (!this.connected.has(socketId)) return false;
    const members = this.rooms.get(channel) ?? new Set();
    members.add(socketId);
    this.rooms.set(channel, members);
    return true;
  }
}

/**
 * This node's subscriptions, like ShardSubscriptions: the first hold of a channel subscribes, and
 * every hold answers that subscription's promise. `confirm` (or `fail`) answers it, as Redis would.
 * `auto` answers at once (the memory bus).
 */
class FakeInterest {
  private readonly held = new Map<string, { promise: Promise<void>; confirm: () => void; fail: () => void }>();
  auto = true;

  hold(channel: string): Promise<void> {
    let entry = this.held.get(channel);
    if (!entry) {
      let confirm!: () => void;
      let fail!: () => void;
      const promise = new Promise<void>((resolve, reject) => {
        confirm = resolve;
        fail = () => reject(new Error("subscriber down"));
      });
      entry = { promise, confirm, fail };
      this.held.set(channel, entry);
      if (this.auto) confirm();
    }
    return entry.promise;
  }

  confirm(channel: string): void {
    this.held.get(channel)!.confirm();
  }

  fail(channel: string): void {
    this.held.get(channel)!.fail();
  }

  get channels(): string[] {
    return [...this.held.keys()];
  }
}

function setup() {
  const time = new ManualTime();
  const history = new FakeHistory();
  const sockets = new FakeSockets();
  const interest = new FakeInterest();
  const written: WriteCounts[] = [];
  const retries: number[] = [];
  const delivery = new ChannelDelivery({
    sockets,
    history,
    interest,
    scheduler: time,
    onDelivered: (_message, counts) => written.push(counts),
    onReadFailed: (_channel, _attempt, retryInMs) => retries.push(retryInMs),
  });
  return {
    time,
    history,
    sockets,
    interest,
    delivery,
    written,
    retries,
    /** A broadcast: stored in the history, then brought by the bus. */
    live(...ids: number[]) {
      for (const i of ids) {
        history.store(message(i));
        delivery.deliver(message(i));
      }
    },
    /** A broadcast the bus dropped (its shard was lost): in the history only. */
    dropped(...ids: number[]) {
      for (const i of ids) history.store(message(i));
    },
    /** Sockets connected and in the channel, live. */
    async members(...ids: string[]) {
      sockets.connect(...ids);
      for (const id of ids) await delivery.join(id, CHANNEL);
    },
  };
}

/** Lets the promise chains the fakes just resolved run to their next wait. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves time by each step in turn, letting what a timer started reach its next wait in between. */
async function advance(time: ManualTime, ...steps: number[]): Promise<void> {
  for (const ms of steps) {
    await settled();
    await time.advance(ms);
  }
  await settled();
}
const since = (i: number): string => `${1000 + i}-0`;

describe("ChannelDelivery: live messages", () => {
  it("writes a live message to the channel's members but its `except`, and reports the writes", async () => {
    const t = setup();
    await t.members("a", "b", "c");
    t.sockets.connect("elsewhere");
    t.delivery.deliver({ ...message(1), except: "b" });
    expect([t.sockets.got.get("a"), t.sockets.got.get("b"), t.sockets.got.get("c")]).toEqual([[1], [], [1]]);
    expect(t.sockets.got.get("elsewhere")).toEqual([]);
    expect(t.written).toEqual([{ direct: 2, queued: 0 }]);
  });

  it("writes a message of `all` to every socket, member of a channel or not", () => {
    const t = setup();
    t.sockets.connect("a", "b");
    t.delivery.deliver(message(1, "all"));
    expect([t.sockets.got.get("a"), t.sockets.got.get("b")]).toEqual([[1], [1]]);
  });
});

describe("ChannelDelivery: a client's recovery (join with since)", () => {
  it("replays what the socket missed, then the live messages of the read's time, each offset once, in order", async () => {
    const t = setup();
    await t.members("b");
    t.live(1, 2);
    t.dropped(3); // stored, its bus copy still on its way
    t.sockets.connect("a");
    t.history.mode = "hold";
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await settled(); // the read is sent
    t.delivery.deliver(message(3)); // in the read and in the live buffer
    t.live(4); // in the live buffer only
    expect(t.sockets.got.get("a")).toEqual([]);
    t.history.answerNext();
    expect(await joined).toBe(true);
    t.live(5);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 4, 5]);
    expect(t.sockets.got.get("b")).toEqual([1, 2, 3, 4, 5]);
  });

  it("waits for live delivery to reach the replay, so that a late bus copy is not sent twice", async () => {
    const t = setup();
    await t.members("b");
    t.live(1);
    t.dropped(2); // the bus lags behind the history read
    t.sockets.connect("a");
    let done = false;
    const joined = t.delivery.join("a", CHANNEL, since(0)).then(() => (done = true));
    await settled();
    expect(t.sockets.got.get("a")).toEqual([1, 2]);
    expect(done).toBe(false);
    t.delivery.deliver(message(2));
    await joined;
    t.live(3);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3]);
    expect(t.sockets.got.get("b")).toEqual([1, 2, 3]);
  });

  it("stops waiting for live delivery after CATCH_UP_WAIT_MS", async () => {
    const t = setup();
    t.dropped(1, 2); // the node never held the channel: no live copy will come
    t.sockets.connect("a");
    let done = false;
    const joined = t.delivery.join("a", CHANNEL, since(0)).then(() => (done = true));
    await advance(t.time, CATCH_UP_WAIT_MS - 1);
    expect(done).toBe(false);
    await advance(t.time, 1);
    await joined;
    t.live(3);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3]);
  });

  it("answers recovered:false at once when the history cannot be read, with the live messages that came meanwhile", async () => {
    const t = setup();
    t.dropped(1);
    t.sockets.connect("a");
    t.history.mode = "hold";
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await settled();
    t.live(2);
    t.history.failNext();
    expect(await joined).toBe(false);
    t.live(3);
    await advance(t.time, 10 * READ_RETRY_MAX_MS);
    expect(t.history.reads).toEqual([since(0)]);
    expect(t.sockets.got.get("a")).toEqual([2, 3]);
  });
});

describe("ChannelDelivery: a gap replay (catchUp)", () => {
  it("replays from the last live delivery what the bus dropped, before newer live messages", async () => {
    const t = setup();
    await t.members("a", "b");
    t.live(1);
    t.dropped(2, 3);
    t.history.mode = "hold";
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]);
    t.live(4);
    expect(t.history.reads).toEqual([since(1)]);
    t.history.answerNext();
    await caughtUp;
    t.live(5);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 4, 5]);
    expect(t.sockets.got.get("b")).toEqual([1, 2, 3, 4, 5]);
  });

  it("retries a failing history read, 100 ms doubling to 2 s, holding live messages back until the replay went out", async () => {
    const t = setup();
    await t.members("a");
    t.live(1);
    t.dropped(2, 3);
    t.history.mode = "fail";
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]);
    t.live(4);
    await settled();
    expect(t.history.reads).toHaveLength(1);
    await advance(t.time, READ_RETRY_FIRST_MS - 1);
    expect(t.history.reads).toHaveLength(1);
    await advance(t.time, 1);
    expect(t.history.reads).toHaveLength(2);
    await advance(t.time, 200, 400, 800, 1600, 2000);
    expect(t.history.reads).toHaveLength(7);
    t.live(5);
    expect(t.sockets.got.get("a")).toEqual([1]);
    t.history.mode = "answer";
    await advance(t.time, READ_RETRY_MAX_MS);
    await caughtUp;
    expect(t.retries).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(t.history.reads.every((offset) => offset === since(1))).toBe(true);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 4, 5]);
  });

  it("stops retrying once the channel has no local member left", async () => {
    const t = setup();
    await t.members("a");
    t.live(1);
    t.history.mode = "fail";
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]);
    await settled();
    t.sockets.disconnect("a");
    await advance(t.time, READ_RETRY_FIRST_MS);
    await caughtUp;
    await advance(t.time, 10 * READ_RETRY_MAX_MS);
    expect(t.history.reads).toHaveLength(1);
  });

  it("reads nothing for a channel with no local member", async () => {
    const t = setup();
    t.sockets.connect("a");
    await t.delivery.catchUp(Date.now(), [CHANNEL, "thread.8"]);
    expect(t.history.reads).toEqual([]);
  });

  it("covers every channel with local members and `all` when no channel is named, but not presence watches", async () => {
    const t = setup();
    await t.members("a");
    t.sockets.join("a", "presence.9");
    const read: string[] = [];
    t.delivery = new ChannelDelivery({
      sockets: t.sockets,
      history: { since: (channel) => (read.push(channel), Promise.resolve({ recovered: true, messages: [] })) },
      interest: t.interest,
      scheduler: t.time,
    });
    const caughtUp = t.delivery.catchUp(Date.now());
    expect(read.sort()).toEqual(["all", CHANNEL]);
    await advance(t.time, CATCH_UP_WAIT_MS); // nothing live reaches the gap's start
    await caughtUp;
  });

  it("starts from the gap's time when nothing was delivered on the channel yet", async () => {
    const t = setup();
    await t.members("a");
    const caughtUp = t.delivery.catchUp(1234, [CHANNEL]);
    expect(t.history.reads).toEqual(["1234-0"]);
    await advance(t.time, CATCH_UP_WAIT_MS); // nothing live reaches the gap's start
    await caughtUp;
  });
});

describe("ChannelDelivery: a gap while sockets recover", () => {
  it("reads again, from where a client's recovery got, what the bus dropped after its read", async () => {
    const t = setup();
    await t.members("b");
    t.live(1);
    t.sockets.connect("a");
    t.history.mode = "hold";
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await settled(); // its read is sent: it sees 1 only
    t.live(2); // to b; buffered for a
    t.dropped(3, 4); // the shard is lost
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]); // its canary is back
    t.live(5);
    expect(t.history.reads).toEqual([since(0), since(2)]); // a's read, then b's gap replay from 2
    t.history.answerNext(); // a's first read
    await settled();
    expect(t.sockets.got.get("a")).toEqual([1]);
    expect(t.history.reads).toEqual([since(0), since(2), since(1)]); // a reads again from 1
    t.history.answerNext();
    t.history.answerNext();
    await Promise.all([joined, caughtUp]);
    t.live(6);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.sockets.got.get("b")).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("reads again when a second gap comes while a gap replay is running, for as long as gaps come", async () => {
    const t = setup();
    await t.members("a");
    t.live(1);
    t.dropped(2);
    t.history.mode = "hold";
    const first = t.delivery.catchUp(Date.now(), [CHANNEL]); // sees 2
    t.dropped(3);
    const second = t.delivery.catchUp(Date.now(), [CHANNEL]);
    await second;
    expect(t.history.reads).toEqual([since(1)]); // no second replay beside the running one
    t.history.answerNext();
    await settled();
    t.dropped(4);
    const third = t.delivery.catchUp(Date.now(), [CHANNEL]);
    t.live(5);
    t.history.answerNext(); // the read from 2, sent before the third gap: sees 3
    await settled();
    t.history.answerNext(); // the read after the third gap: sees 4 and 5
    await Promise.all([first, third]);
    expect(t.history.reads).toEqual([since(1), since(2), since(3)]);
    t.live(6);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("does not move a gap replay's start past what it missed when a replay reached other sockets meanwhile", async () => {
    const t = setup();
    await t.members("b");
    t.live(1);
    t.dropped(2, 3); // the bus is losing the shard: b misses them
    t.sockets.connect("a");
    const joined = t.delivery.join("a", CHANNEL, since(0)); // a's replay has 1, 2, 3
    await settled();
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3]);
    await advance(t.time, CATCH_UP_WAIT_MS); // live never gets there: a's wait ends
    await joined;
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]);
    await advance(t.time, CATCH_UP_WAIT_MS);
    await caughtUp;
    expect(t.history.reads).toEqual([since(0), since(3), since(1)]); // a from its own offset, b from 1
    t.live(4);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 4]);
    expect(t.sockets.got.get("b")).toEqual([1, 2, 3, 4]);
  });

  it("does not send a late live copy of what a replay sent after its wait ended, and sends newer ones", async () => {
    const t = setup();
    await t.members("b");
    t.live(1);
    t.dropped(2, 3); // their bus copies lag more than CATCH_UP_WAIT_MS
    t.sockets.connect("a");
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await advance(t.time, CATCH_UP_WAIT_MS);
    await joined;
    t.delivery.deliver({ channel: CHANNEL, event: "typing", data: { i: 99 } }); // ephemeral: at once
    t.delivery.deliver(message(2));
    t.delivery.deliver(message(3));
    t.live(4);
    t.live(5);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3, 99, 4, 5]);
    expect(t.sockets.got.get("b")).toEqual([1, 99, 2, 3, 4, 5]);
  });

  it("stops keeping a replay's sockets apart after TRAILING_MAX_MS", async () => {
    const t = setup();
    await t.members("b");
    t.live(1);
    t.dropped(2);
    t.sockets.connect("a");
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await advance(t.time, CATCH_UP_WAIT_MS);
    await joined;
    await advance(t.time, TRAILING_MAX_MS);
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]);
    await advance(t.time, CATCH_UP_WAIT_MS);
    await caughtUp;
    expect(t.history.reads).toEqual([since(0), since(1)]); // one replay for both, from the live position
  });

  it("starts the next gap replay after a replay that ran ahead of live delivery for every member", async () => {
    const t = setup();
    t.dropped(1, 2);
    t.sockets.connect("a");
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await advance(t.time, CATCH_UP_WAIT_MS);
    await joined;
    t.dropped(3);
    const caughtUp = t.delivery.catchUp(Date.now(), [CHANNEL]);
    await advance(t.time, CATCH_UP_WAIT_MS);
    await caughtUp;
    expect(t.history.reads).toEqual([since(0), since(2)]);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3]);
  });
});

describe("ChannelDelivery: a join waits for this node's subscription", () => {
  it("completes a join once the channel's subscription is confirmed, and at once when it is held already", async () => {
    const t = setup();
    t.interest.auto = false;
    t.sockets.connect("a", "b");
    let joined = false;
    const first = t.delivery.join("a", CHANNEL).then(() => (joined = true));
    await settled();
    expect(joined).toBe(false);
    t.interest.confirm(CHANNEL);
    await first;
    await t.delivery.join("b", CHANNEL);
    expect(t.interest.channels).toEqual([CHANNEL]);
  });

  it("reads a recovery's history only after the subscription is confirmed, so that nothing falls between", async () => {
    const t = setup();
    t.interest.auto = false;
    t.dropped(1);
    t.sockets.connect("a");
    const joined = t.delivery.join("a", CHANNEL, since(0));
    await settled();
    expect(t.history.reads).toEqual([]);
    t.dropped(2); // published before this node was subscribed: not on its bus
    t.interest.confirm(CHANNEL);
    await settled();
    t.live(3);
    await advance(t.time, CATCH_UP_WAIT_MS);
    expect(await joined).toBe(true);
    expect(t.sockets.got.get("a")).toEqual([1, 2, 3]);
  });

  it("completes the join when the subscription fails (the bus reports that as a gap)", async () => {
    const t = setup();
    t.interest.auto = false;
    t.sockets.connect("a");
    const joined = t.delivery.join("a", CHANNEL);
    await settled();
    t.interest.fail(CHANNEL);
    await expect(joined).resolves.toBe(false);
  });

  it("neither joins nor holds the channel for a socket that left before its join", async () => {
    const t = setup();
    await t.delivery.join("gone", CHANNEL);
    expect(t.interest.channels).toEqual([]);
    expect([...t.sockets.members(CHANNEL)]).toEqual([]);
  });
});
