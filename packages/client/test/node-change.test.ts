import { startRedis, uniquePrefix, TestRedis } from "../../../apps/realtime/test/helpers/redis";
import { startNode, tokenFor, until } from "./helpers/node";
import { numbers, recordedClient, subscribeRecorded } from "./helpers/recorder";
import { startProxy } from "./helpers/tcp-proxy";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

describe("the client in cluster mode", () => {
  it("moving to another node, hands over exactly the missed events, once, in order", async () => {
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: uniquePrefix() };
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    const balancer = await startProxy(a.port);
    const alice = recordedClient({ url: balancer.url, token: tokenFor(1) });
    await subscribeRecorded(alice, 7);
    const thread = (i: number) => ({ event: "new_reply", to: "thread", thread_id: 7, data: { i } });
    const notify = (i: number) => ({ event: "notification", to: "user", user_id: 1, data: { i } });
    await a.broadcast(thread(0));
    await a.broadcast(notify(1));
    await until(() => alice.events.length === 2);

    balancer.down();
    balancer.retarget(b.port);
    await until(() => alice.states.includes("disconnected"));
    for (let i = 2; i < 6; i++) await a.broadcast(i % 2 === 0 ? thread(i) : notify(i));
    balancer.up();
    await until(() => alice.events.length === 6, 15000, "the missed events, from node b");
    expect(((await (await b.api("/health")).json()) as { connections: number }).connections).toBe(1);
    await b.broadcast(thread(6));
    await until(() => alice.events.length === 7);
    expect(numbers(alice.events.filter((e) => e.meta.channel === "thread.7"))).toEqual([0, 2, 4, 6]);
    expect(numbers(alice.events.filter((e) => e.meta.channel === "user.1"))).toEqual([1, 3, 5]);
    expect(alice.gaps).toEqual([]);
  });
});
