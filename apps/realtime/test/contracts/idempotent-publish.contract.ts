import type { Broadcaster, ChannelMessage, History, MessageDraft, PublishOnceOutcome } from "../../src/core/ports";

export interface IdempotentPublishParts {
  broadcaster: Broadcaster;
  history: History;
}

/** Broadcaster.publishOnce: the idempotency guarantees of POST /api/broadcast with an id. */
export function idempotentPublishContract(
  name: string,
  make: () => Promise<IdempotentPublishParts> | IdempotentPublishParts,
  /** Moves the store's time forward (memory: its clock; Redis: the keys' TTLs). */
  advance: (ms: number) => Promise<void> | void,
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
      await flush(broadcaster, seen);
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
      await flush(broadcaster, seen);
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
      await flush(broadcaster, seen);
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
  });
}

/**
 * Publishes a sentinel on its own channel and waits for it to come back through the bus, then
 * takes it out of `seen`. The bus keeps publish order, so a message published before it that was
 * going to arrive has arrived: "nothing more came" is then an assertion, not a wait.
 */
export async function flush(broadcaster: Broadcaster, seen: ChannelMessage[]): Promise<void> {
  const id = `flush-${Math.random()}`;
  await broadcaster.publish([{ channel: "flush", event: "flush", data: {}, id }]);
  await until(() => seen.some((message) => message.meta?.id === id));
  seen.splice(
    seen.findIndex((message) => message.meta?.id === id),
    1,
  );
}

/** Resolves once `predicate` holds, checked every 2 ms; a poll for an event, not a sleep. */
export async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
