import type { Broadcaster, ChannelMessage, History, MessageDraft, PublishOnceOutcome } from "../../src/core/ports";

export interface IdempotentPublishParts {
  broadcaster: Broadcaster;
  history: History;
  /**
   * Makes every publish to `channel` fail inside the store (Redis: its history key holds a string)
   * and resolves with the repair. Absent where a publish cannot fail (memory).
   */
  breakChannel?: (channel: string) => Promise<() => Promise<void>>;
}

/** Broadcaster.publishOnce: the idempotency guarantees of POST /api/broadcast with an id. */
export function idempotentPublishContract(
  name: string,
  make: () => Promise<IdempotentPublishParts> | IdempotentPublishParts,
  advance: (ms: number) => Promise<void> | void,
  /** Whether `make` provides `breakChannel` (skipped where a publish cannot fail). */
  canFail: boolean,
): void {
  describe(`${name} Broadcaster.publishOnce contract`, () => {
    const drafts = (id: string, ...channels: string[]): MessageDraft[] =>
      channels.map((channel, i) => ({ channel, event: "e", data: { i }, id }));

    /** The parts, with every durable message the sinks get. */
    async function setUp(): Promise<IdempotentPublishParts & { seen: ChannelMessage[] }> {
      const parts = await make();
      const seen: ChannelMessage[] = [];
      parts.broadcaster.onMessage((message) => {
        if (message.meta) seen.push(message);
      });
      return { ...parts, seen };
    }

    const resultOf = (outcome: PublishOnceOutcome) => {
      if (outcome.duplicate) throw new Error("expected a first publish");
      return {
        id: outcome.metas[0].id,
        channels: outcome.metas.map((meta) => ({ channel: meta.channel, offset: meta.offset })),
      };
    };

    it("answers a repeat within the TTL with the first result, and does not deliver it again", async () => {
      const { broadcaster, seen } = await setUp();
      const first = await broadcaster.publishOnce("k1", 60, drafts("k1", "user.1", "user.2"));
      expect(first.duplicate).toBe(false);
      expect(resultOf(first)).toEqual({
        id: "k1",
        channels: [
          { channel: "user.1", offset: expect.stringMatching(/^\d+-\d+$/) },
          { channel: "user.2", offset: expect.stringMatching(/^\d+-\d+$/) },
        ],
      });
      await until(() => seen.length === 2);
      const again = await broadcaster.publishOnce("k1", 60, drafts("k1", "user.1", "user.2"));
      expect(again).toEqual({ duplicate: true, previous: resultOf(first) });
      // Another key is another broadcast.
      expect((await broadcaster.publishOnce("k2", 60, drafts("k2", "user.1"))).duplicate).toBe(false);
      await until(() => seen.length === 3);
      await settle();
      expect(seen.map((m) => [m.meta?.id, m.channel])).toEqual([
        ["k1", "user.1"],
        ["k1", "user.2"],
        ["k2", "user.1"],
      ]);
    });

    it("delivers ten concurrent publishes of one key exactly once, answering the others with its result", async () => {
      const { broadcaster, history, seen } = await setUp();
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => broadcaster.publishOnce("k", 60, drafts("k", "thread.1"))),
      );
      const fresh = outcomes.filter((outcome) => !outcome.duplicate);
      expect(fresh).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => o.duplicate)) {
        expect(outcome).toEqual({ duplicate: true, previous: resultOf(fresh[0]) });
      }
      await until(() => seen.length === 1);
      await settle();
      expect(seen).toHaveLength(1);
      expect((await history.since("thread.1", "0-0")).messages).toHaveLength(1);
    });

    it("accepts exactly one of ten concurrent publishes of one key to many channels, each channel once", async () => {
      const { broadcaster, seen } = await setUp();
      const channels = ["user.1", "user.2", "user.3", "thread.1", "thread.2"];
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => broadcaster.publishOnce("many", 60, drafts("many", ...channels))),
      );
      expect(outcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(1);
      const offsets = outcomes.map((outcome) =>
        (outcome.duplicate ? outcome.previous!.channels : resultOf(outcome).channels).map((c) => c.offset),
      );
      for (const each of offsets) expect(each).toEqual(offsets[0]);
      await until(() => seen.length === channels.length);
      await settle();
      expect(seen.map((m) => m.channel).sort()).toEqual([...channels].sort());
    });

    it("publishes a key again once its TTL has passed", async () => {
      const { broadcaster, seen } = await setUp();
      const first = resultOf(await broadcaster.publishOnce("k", 1, drafts("k", "user.1")));
      await advance(1100);
      const second = await broadcaster.publishOnce("k", 1, drafts("k", "user.1"));
      expect(second.duplicate).toBe(false);
      expect(resultOf(second).channels[0].offset).not.toBe(first.channels[0].offset);
      await until(() => seen.length === 2);
    });

    it("keeps publishes without a key apart from the keys", async () => {
      const { broadcaster, seen } = await setUp();
      await broadcaster.publish(drafts("k", "user.1"));
      expect((await broadcaster.publishOnce("k", 60, drafts("k", "user.1"))).duplicate).toBe(false);
      await until(() => seen.length === 2);
    });

    (canFail ? it : it.skip)(
      "leaves nothing behind when the publish of a channel fails: no message, and the key free for a retry",
      async () => {
        const { broadcaster, history, seen, breakChannel } = await setUp();
        const repair = await breakChannel!("user.1");
        await expect(broadcaster.publishOnce("k", 60, drafts("k", "user.1"))).rejects.toThrow();
        await settle();
        expect(seen).toEqual([]);
        await repair();
        expect((await history.since("user.1", "0-0")).messages).toEqual([]);
        const retry = await broadcaster.publishOnce("k", 60, drafts("k", "user.1"));
        expect(retry.duplicate).toBe(false);
        await until(() => seen.length === 1);
        await settle();
        expect(seen).toHaveLength(1);
      },
    );

    (canFail ? it : it.skip)(
      "completes on a retry only the channels a failed attempt left undone, and delivers nothing twice",
      async () => {
        const { broadcaster, seen, breakChannel } = await setUp();
        const repair = await breakChannel!("user.2");
        await expect(broadcaster.publishOnce("k", 60, drafts("k", "user.1", "user.2", "user.3"))).rejects.toThrow();
        await until(() => seen.length === 2);
        const firstOffsets = new Map(seen.map((m) => [m.channel, m.meta?.offset]));
        expect([...firstOffsets.keys()].sort()).toEqual(["user.1", "user.3"]);
        await repair();
        const retry = await broadcaster.publishOnce("k", 60, drafts("k", "user.1", "user.2", "user.3"));
        // Not every part was done before, so this is no duplicate; the done parts keep their offsets.
        expect(retry.duplicate).toBe(false);
        const result = resultOf(retry);
        expect(result.id).toBe("k");
        expect(result.channels.map((c) => c.channel)).toEqual(["user.1", "user.2", "user.3"]);
        expect(result.channels[0].offset).toBe(firstOffsets.get("user.1"));
        expect(result.channels[2].offset).toBe(firstOffsets.get("user.3"));
        await until(() => seen.length === 3);
        expect(await broadcaster.publishOnce("k", 60, drafts("k", "user.1", "user.2", "user.3"))).toEqual({
          duplicate: true,
          previous: result,
        });
        await settle();
        expect(seen.map((m) => m.channel).sort()).toEqual(["user.1", "user.2", "user.3"]);
        expect(seen.every((m) => m.meta?.id === "k")).toBe(true);
      },
    );
  });
}

/** Long enough for a message that should not come to come over a local bus. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
