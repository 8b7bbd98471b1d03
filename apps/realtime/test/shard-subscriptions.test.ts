import { EventEmitter } from "node:events";
import { KeySpace } from "../src/cluster/key-space";
import type { RedisClient } from "../src/cluster/redis-connections";
import { ShardSubscriptions } from "../src/cluster/shard-subscriptions";
import { ManualTime } from "./helpers/manual-time";

/**
 * A stand-in for one Redis (a single shard) whose SSUBSCRIBE replies the test releases by hand:
 * the order of a resubscription and a canary is what is under test, and a real Redis answers too
 * fast to show it. Canaries published on `commands` come back on the subscriber at once.
 */
class FakeShard extends EventEmitter {
  readonly pending: Array<{ channels: string[]; done: () => void }> = [];
  autoAnswer = true;

  ssubscribe(...channels: string[]): Promise<number> {
    if (this.autoAnswer) return Promise.resolve(channels.length);
    return new Promise((resolve) => this.pending.push({ channels, done: () => resolve(channels.length) }));
  }

  sunsubscribe(): Promise<number> {
    return Promise.resolve(0);
  }

  spublish(channel: string, text: string): Promise<number> {
    if (this.listening) this.emit("smessage", channel, text);
    return Promise.resolve(1);
  }

  /** False while the connection is down: nothing published reaches it. */
  listening = true;
}

async function started() {
  const time = new ManualTime();
  const shard = new FakeShard();
  const keys = new KeySpace("t:");
  const delivered: string[] = [];
  const gaps: string[][] = [];
  const subscriptions = new ShardSubscriptions({
    subscriber: shard as unknown as RedisClient,
    commands: shard as unknown as RedisClient,
    keys,
    nodeId: "n1",
    lingerMs: 1000,
    onMessage: (text) => delivered.push(text),
    clock: time,
    scheduler: time,
  });
  subscriptions.onGap((_since, channels) => gaps.push(channels));
  await subscriptions.start();
  await subscriptions.hold("thread.7");
  return { time, shard, keys, delivered, gaps, subscriptions };
}

describe("ShardSubscriptions: a lost shard comes back", () => {
  it("replays the gap only once a resubscription sent before the canary is confirmed, and drops live messages until then", async () => {
    const { time, shard, keys, delivered, gaps, subscriptions } = await started();
    gaps.length = 0;
    void shard.spublish(keys.channel("thread.7"), "1|before");
    expect(delivered).toEqual(["1|before"]);

    // The connection ends; ioredis reconnects and resubscribes every channel in one go.
    shard.listening = false;
    shard.emit("close");
    expect(subscriptions.isFlowing()).toBe(false);
    shard.listening = true;
    shard.autoAnswer = false;
    await time.advance(500); // the next canary comes back: its own subscription works
    // The canary alone does not prove thread.7's subscription: nothing is replayed yet, and what
    // comes live meanwhile is left to the replay (history holds it).
    expect(gaps).toEqual([]);
    void shard.spublish(keys.channel("thread.7"), "2|during");
    expect(delivered).toEqual(["1|before"]);
    expect(subscriptions.isFlowing()).toBe(false);

    // The confirming SSUBSCRIBE's answer comes after every earlier one on that connection.
    expect(shard.pending.map((p) => p.channels)).toEqual([[expect.stringContaining("~canary.n1")]]);
    shard.pending.splice(0).forEach((p) => p.done());
    await Promise.resolve();
    expect(gaps).toEqual([expect.arrayContaining(["thread.7", "all"])]);
    expect(subscriptions.isFlowing()).toBe(true);
    void shard.spublish(keys.channel("thread.7"), "3|after");
    expect(delivered).toEqual(["1|before", "3|after"]);
    subscriptions.stop();
  });

  it("does not call a shard found when it was lost again while its resubscription was being confirmed", async () => {
    const { time, shard, gaps, subscriptions } = await started();
    gaps.length = 0;
    shard.emit("close");
    shard.autoAnswer = false;
    await time.advance(500);
    shard.emit("close"); // lost again before the confirmation came
    shard.pending.splice(0).forEach((p) => p.done());
    await Promise.resolve();
    expect(gaps).toEqual([]);
    expect(subscriptions.isFlowing()).toBe(false);

    shard.autoAnswer = true;
    await time.advance(500);
    await Promise.resolve();
    expect(gaps).toHaveLength(1);
    expect(subscriptions.isFlowing()).toBe(true);
    subscriptions.stop();
  });
});
