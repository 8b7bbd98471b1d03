import { userChannel } from "@mechamap/protocol";
import type { ChannelInterest } from "../src/core/ports";
import { createRedisState } from "../src/state/redis-state";
import type { SharedState } from "../src/state/shared-state";
import { client, flushEvents, record, startNode, tokenFor, TestNode } from "./helpers/node";
import { startRedis, uniquePrefix, TestRedis } from "./helpers/redis";

/**
 * CONNECT waits until the node hears the user's own channel (create-socket-server.ts,
 * ownChannelHeard): a notification posted on another node right after the client saw `connect`
 * reaches it. Two in-process nodes on a real Redis; the client is on node A, the notification is
 * posted on node B. Node A's subscription to the user's channel is made late on purpose, without
 * timers: a subscription asked for once the socket is connected is only made after the
 * notification was answered. Without the hold, the only subscription is that one (the user's room
 * is joined after CONNECT), so the notification goes out while node A does not listen: lost.
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

const USER = 1;

/**
 * Node A's subscriptions, with the user's channel asked for after CONNECT held back until
 * `answered` resolves. Asked for during the handshake (no socket connected yet), it goes through.
 */
function lateAfterConnect(
  interest: ChannelInterest,
  node: () => TestNode | undefined,
  answered: Promise<void>,
  onLate: (heard: Promise<void>) => void,
): ChannelInterest {
  return {
    hold(channel) {
      const connectedSockets = node()?.app.io.of("/").sockets.size ?? 0;
      if (channel !== userChannel(String(USER)) || connectedSockets === 0) return interest.hold(channel);
      const heard = answered.then(() => interest.hold(channel));
      onLate(heard);
      return heard;
    },
    release: (channel) => interest.release(channel),
  };
}

describe("CONNECT after the user's own channel is heard", () => {
  it("delivers a notification posted on another node right after `connect`", async () => {
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix() };
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const late: Array<Promise<void>> = [];
    // `() => a` is called only once a socket connects, after `a` is set.
    const a: TestNode = await startNode({ ...env, NODE_ID: "a" }, async (config): Promise<SharedState> => {
      const state = await createRedisState(config, { onError: () => undefined });
      const interest = lateAfterConnect(
        state.interest,
        () => a,
        answered,
        (heard) => late.push(heard),
      );
      return { ...state, interest };
    });
    const b = await startNode({ ...env, NODE_ID: "b" }, (config) =>
      createRedisState(config, { onError: () => undefined }),
    );

    const socket = client(a.url, { auth: { token: tokenFor(USER) } });
    const got = record(socket);
    const posted = new Promise<Response>((resolve, reject) => {
      socket.once("connect", () => {
        const body = { event: "notification", to: "user", user_id: USER, data: { n: 1 } };
        b.api("/api/broadcast", { body }).then(resolve, reject);
      });
    });
    expect((await posted).status).toBe(200);
    answer();

    // Node A listens now (whatever it asked for late is confirmed): a sentinel through node B
    // arrives after anything published before it, so "the notification never came" is a fact.
    await Promise.all(late);
    await flushEvents(b, { to: "user", user_id: USER }, got);
    expect(got.map((event) => [event.event, event.data])).toEqual([["notification", { n: 1 }]]);
  });
});
