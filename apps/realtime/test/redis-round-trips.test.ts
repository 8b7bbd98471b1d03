import Redis from "ioredis";
import { createRedisState } from "../src/state/redis-state";
import { connected, json, record, startNode, tokenFor, until } from "./helpers/node";
import { startRedis, TestRedis, uniquePrefix } from "./helpers/redis";

/**
 * What one broadcast costs in Redis commands, seen by Redis itself (MONITOR): an idempotent
 * broadcast is one script call (check the id, append, publish, record the result), not a claim,
 * a publish and a record in three round trips.
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

describe("Redis round trips of a broadcast", () => {
  it("is one script call for a broadcast with an id, for its repeat, and for one without an id", async () => {
    const prefix = uniquePrefix();
    const node = await startNode({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, NODE_ID: "n0" }, (config) =>
      createRedisState(config, { onError: () => undefined }),
    );
    const socket = await connected(node.url, { auth: { token: tokenFor(77) } });
    const got = record(socket);
    const post = (body: object) =>
      json(node.api("/api/broadcast", { body: { event: "e", to: "user", user_id: 77, data: {}, ...body } }));
    // Loads the script (the very first call of a script after a Redis start is EVALSHA + EVAL).
    await post({ id: "warm-up" });

    const probe = new Redis(redis.url);
    const monitor = await probe.monitor();
    const commands: string[][] = [];
    // Commands that a script runs are listed too, from "lua": only what clients send counts.
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (source !== "lua") commands.push(args);
    });
    // MONITOR lists commands in the order Redis ran them: once a marker sent now shows, everything
    // run before it has been listed (an assertion about what was sent needs no sleep).
    const other = new Redis(redis.url);
    const caughtUp = async (): Promise<void> => {
      const marker = `caught-up-${Math.random()}`;
      await other.echo(marker);
      await until(() => commands.some((args) => args.includes(marker)), 5000, "MONITOR to list the marker");
    };
    await caughtUp();
    try {
      // Every command of this node that concerns the broadcast: the id's key or the channel's history.
      const about = (marker: string) =>
        commands
          .filter((args) => args.some((arg) => arg.includes(marker) || arg.includes(`${prefix}{user.77}:h`)))
          .map((args) => args[0].toLowerCase());
      const first = await post({ id: "counted-once" });
      await until(() => got.some((e) => e.meta?.id === "counted-once"));
      await caughtUp();
      expect(first).toMatchObject({ success: true, id: "counted-once", channel: "user.77" });
      expect(about("counted-once")).toEqual(["evalsha"]);

      commands.length = 0;
      expect(await post({ id: "counted-once" })).toMatchObject({ duplicate: true, offset: first.offset });
      await caughtUp();
      expect(about("counted-once")).toEqual(["evalsha"]);

      commands.length = 0;
      await post({ data: { plain: true } });
      await until(() => got.some((e) => e.data.plain === true));
      await caughtUp();
      expect(about(`}:i:`)).toEqual(["evalsha"]);
      expect(got.map((e) => e.meta?.id).slice(0, 2)).toEqual(["warm-up", "counted-once"]);
      expect(got).toHaveLength(3);
    } finally {
      monitor.disconnect();
      probe.disconnect();
      other.disconnect();
    }
  });
});
