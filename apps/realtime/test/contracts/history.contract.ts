import type { Broadcaster, ChannelMessage, History } from "../../src/core/ports";

export interface HistoryParts {
  broadcaster: Broadcaster;
  history: History;
}

/** Broadcaster and History together: offsets, order, replay, gaps. */
export function historyContract(name: string, make: (size: number) => Promise<HistoryParts> | HistoryParts): void {
  describe(`${name} Broadcaster + History contract`, () => {
    const draft = (channel: string, i: number) => ({ channel, event: "e", data: { i }, id: `m${i}` });

    it("hands every published message to the sinks, in order, with increasing offsets", async () => {
      const { broadcaster } = await make(10);
      const seen: ChannelMessage[] = [];
      broadcaster.onMessage((message) => seen.push(message));
      const metas = await broadcaster.publish([draft("thread.1", 1), draft("thread.1", 2)]);
      await broadcaster.publish([draft("thread.1", 3)]);
      await waitFor(() => seen.length === 3);
      expect(seen.map((m) => m.data.i)).toEqual([1, 2, 3]);
      expect(seen.map((m) => m.meta?.offset).slice(0, 2)).toEqual(metas.map((m) => m.offset));
      expect(metas[0]).toEqual({
        id: "m1",
        channel: "thread.1",
        offset: expect.stringMatching(/^\d+-\d+$/),
        ts: expect.any(Number),
      });
    });

    it("replays what came after an offset, and nothing for the newest offset", async () => {
      const { broadcaster, history } = await make(10);
      const metas = await broadcaster.publish([1, 2, 3, 4].map((i) => draft("thread.1", i)));
      await broadcaster.publish([draft("thread.2", 9)]);
      const replay = await history.since("thread.1", metas[1].offset);
      expect(replay.recovered).toBe(true);
      expect(replay.messages.map((m) => m.data.i)).toEqual([3, 4]);
      expect(await history.since("thread.1", metas[3].offset)).toEqual({ recovered: true, messages: [] });
    });

    it("says recovered:false for an offset older than what it keeps, handing over what it has", async () => {
      const { broadcaster, history } = await make(2);
      const metas = await broadcaster.publish([1, 2, 3, 4].map((i) => draft("thread.1", i)));
      const partial = await history.since("thread.1", metas[0].offset);
      expect(partial.recovered).toBe(false);
      expect(partial.messages.map((m) => m.data.i)).toEqual([3, 4]);
      expect((await history.since("thread.1", metas[1].offset)).messages.map((m) => m.data.i)).toEqual([3, 4]);
    });

    it("says recovered:false for an unknown channel or a foreign offset", async () => {
      const { history } = await make(2);
      expect((await history.since("thread.404", "1-1")).recovered).toBe(false);
    });

    it("delivers signals without an offset or history", async () => {
      const { broadcaster, history } = await make(10);
      const seen: ChannelMessage[] = [];
      broadcaster.onMessage((message) => seen.push(message));
      await broadcaster.signal({ channel: "presence.1", event: "user_online", data: { user_id: "1" } });
      await waitFor(() => seen.length === 1);
      expect(seen[0].meta).toBeUndefined();
      expect((await history.since("presence.1", "1-0")).messages).toEqual([]);
    });
  });
}

async function waitFor(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
