import Redis from "ioredis";
import { createRedisConnections, whenReady, RedisConnections } from "../src/cluster/redis-connections";
import { RedisScript } from "../src/cluster/redis-script";
import { startRedis, uniquePrefix, TestRedis } from "./helpers/redis";
import { startRedisReplyGate, RedisReplyGate } from "./helpers/redis-reply-gate";

/**
 * Scripts on a Redis that lost them (a restart, a SCRIPT FLUSH): they are back before our calls
 * need them, and calls that met NOSCRIPT anyway still run in the order they were issued.
 */
let redis: TestRedis;
let direct: Redis;
const closing: Array<() => Promise<unknown> | void> = [];
beforeAll(async () => {
  redis = await startRedis();
  direct = new Redis(redis.url);
});
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});
afterAll(async () => {
  direct.disconnect();
  await redis.stop();
});

/** Appends ARGV[1] to a list: the list is the order in which Redis ran the calls. */
const APPEND = new RedisScript(`return redis.call('RPUSH', KEYS[1], ARGV[1])`);

const noscriptErrors = async (server: Redis): Promise<number> =>
  Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(await server.info("errorstats"))?.[1] ?? 0);

describe("Lua scripts on a Redis that lost them", () => {
  it("are loaded again as the first command after a reconnect (a restarted Redis): no call meets NOSCRIPT", async () => {
    const own = await startRedis();
    closing.push(() => own.stop());
    const connections: RedisConnections = createRedisConnections({ url: own.url, clusterNodes: [] }, "test");
    closing.push(() => connections.close());
    await whenReady(connections.commands, 5000);
    await RedisScript.keepLoaded(connections.commands);

    await own.stop();
    await own.start();
    // Registered after keepLoaded's own listener: by now the load is on the wire, ahead of the call.
    await new Promise((resolve) => connections.commands.once("ready", resolve));
    const key = `${uniquePrefix()}list`;
    expect(await APPEND.run(connections.commands, [key], ["first"])).toBe(1);

    const server = new Redis(own.url);
    closing.push(() => server.disconnect());
    expect(await noscriptErrors(server)).toBe(0);
    expect(await server.script("EXISTS", ...RedisScript.shas())).toEqual(RedisScript.shas().map(() => 1));
  });

  it("keeps one sender's calls in issue order when its first calls meet NOSCRIPT (script then WAIT)", async () => {
    const gate: RedisReplyGate = await startRedisReplyGate(redis.port);
    closing.push(() => gate.close());
    // As the node's command connection (redis-connections.ts): no offline queue.
    const client = new Redis(gate.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    closing.push(() => client.disconnect());
    await whenReady(client, 5000);
    const key = `${uniquePrefix()}list`;
    await direct.script("FLUSH");

    // Two calls on their way, both answered NOSCRIPT; their answers are held back.
    gate.hold();
    const first = ["c0", "c1"].map((item) => APPEND.runThenWait(client, [key], [item], 1, 5));
    await gate.when(() => gate.held().length === 4);
    expect(gate.held().filter((reply) => reply.startsWith("-NOSCRIPT"))).toHaveLength(2);

    // The client hears c0's NOSCRIPT (and its WAIT), not yet c1's, and reacts (it sends something).
    const sent = gate.commandsSent();
    gate.release(2);
    await gate.when(() => gate.commandsSent() > sent);

    // The sender's next call, issued now; a PING behind it tells when Redis has run all that was sent.
    const later = APPEND.runThenWait(client, [key], ["c2"], 1, 5);
    const ping = client.ping();
    await gate.when(() => gate.held().includes("+PONG\r\n"));
    gate.releaseAll();

    await Promise.all([...first, later, ping]);
    expect(await direct.lrange(key, 0, -1)).toEqual(["c0", "c1", "c2"]);
  });

  it("keeps the node's calls issued over several ticks in issue order after a SCRIPT FLUSH", async () => {
    const connections = createRedisConnections({ url: redis.url, clusterNodes: [] }, "test");
    closing.push(() => connections.close());
    await whenReady(connections.commands, 5000);
    const key = `${uniquePrefix()}list`;
    await direct.script("FLUSH");

    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      calls.push(APPEND.run(connections.commands, [key], [String(i)]));
      // A few calls per tick, as a sender fed by a socket would issue them.
      if (i % 7 === 6) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(calls);
    expect(await direct.lrange(key, 0, -1)).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
  });
});
