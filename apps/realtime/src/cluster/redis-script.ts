import { createHash } from "node:crypto";
import Redis, { Cluster } from "ioredis";
import type { RedisClient } from "./redis-connections";
import { ScriptLane } from "./script-lane";

/**
 * A Lua script run by its sha (EVALSHA): one round trip; calls issued together inside inOneWrite
 * (one-write.ts) share one write. The scripts are loaded on every server before our calls reach it
 * (`keepLoaded`); should one answer NOSCRIPT all the same, the call is sent again once they are loaded, in issue order (ScriptLane), and so is one that met MOVED in a pipeline.
 * Never EVAL: a call that fell back to EVAL could be overtaken by a later EVALSHA that finds the
 * script the EVAL just loaded.
 */
export class RedisScript {
  /** Every script of the node, for `keepLoaded`. */
  private static readonly all: RedisScript[] = [];
  private static readonly lanes = new WeakMap<RedisClient, ScriptLane>();
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
    RedisScript.all.push(this);
  }

  /** The shas of every script `keepLoaded` loads. */
  static shas(): string[] {
    return RedisScript.all.map((script) => script.sha);
  }

  /**
   * SCRIPT LOAD of every script on every master now, and again on each server the client connects
   * to later, as the connection's first command: a restarted master, or a node a reshard or a
   * failover gives slots to. On a Cluster a connection to a node is new after any of these (ioredis
   * drops a node's connection when it closes and makes a new one, `+node`, when the node is seen
   * again), and its offline queue sends the load before anything queued after it; a single Redis's
   * connection loads on `ready`. Replicas: `followReplicas`.
   */
  static async keepLoaded(redis: RedisClient): Promise<void> {
    if (redis instanceof Cluster) {
      redis.on("+node", (node: Redis) => void RedisScript.loadOn(node).catch(() => undefined));
      await Promise.all(redis.nodes("master").map((node) => RedisScript.loadOn(node)));
      return;
    }
    redis.on("ready", () => void RedisScript.loadOn(redis).catch(() => undefined));
    await RedisScript.loadOn(redis);
  }

  /**
   * Keeps the scripts on every replica of a Cluster, so that a failover promotes a master that
   * has them: Redis 7 does not replicate its script cache (loaded or EVALed on a master, a script
   * is not on its replicas), but a replica keeps what was loaded on it through a full resync and
   * its promotion (checked on Redis 7.0). `update` takes the replicas the masters list now
   * (ReplicaWatch, every second): each gets a connection of its own that loads the scripts
   * whenever it (re)connects, so a replica that restarts has them again as soon as it is back.
   * A single Redis has no failover of ours: nothing to follow.
   */
  static followReplicas(redis: RedisClient): { update(addresses: string[]): void; close(): void } {
    if (!(redis instanceof Cluster)) return { update: () => undefined, close: () => undefined };
    const loaders = new Map<string, Redis>();
    return {
      update(addresses) {
        const listed = new Set(addresses);
        for (const [address, loader] of loaders) {
          if (listed.has(address)) continue;
          loader.disconnect();
          loaders.delete(address);
        }
        for (const address of listed) {
          if (loaders.has(address)) continue;
          const [host, port] = address.split(":");
          const loader = new Redis({ ...redis.options.redisOptions, host, port: Number(port) });
          loader.on("error", () => undefined);
          loader.on("ready", () => void RedisScript.loadOn(loader).catch(() => undefined));
          loaders.set(address, loader);
        }
      },
      close() {
        for (const loader of loaders.values()) loader.disconnect();
        loaders.clear();
      },
    };
  }

  private static async loadOn(server: Redis): Promise<void> {
    await Promise.all(RedisScript.all.map((script) => server.script("LOAD", script.lua)));
  }

  /**
   * What mends a call's error before the lane sends it again: NOSCRIPT, load the scripts again where
   * the calls go (the masters); MOVED, which ioredis leaves to us only in `runThenWait`'s pipeline (a
   * script and a WAIT, two different replies, are not a pipeline it resends), follow the slot map.
   */
  private static repairFor(redis: RedisClient, error: unknown): (() => Promise<void>) | undefined {
    if (!(error instanceof Error)) return undefined;
    if (error.message.startsWith("NOSCRIPT")) {
      const servers = redis instanceof Cluster ? redis.nodes("master") : [redis];
      return () => Promise.all(servers.map((server) => RedisScript.loadOn(server))).then(() => undefined);
    }
    if (error.message.startsWith("MOVED") && redis instanceof Cluster) {
      return () =>
        new Promise<void>((resolve, reject) =>
          redis.refreshSlotsCache((failed) => (failed ? reject(failed) : resolve())),
        );
    }
    return undefined;
  }

  private static laneOf(redis: RedisClient): ScriptLane {
    let lane = RedisScript.lanes.get(redis);
    if (!lane) {
      lane = new ScriptLane((error) => RedisScript.repairFor(redis, error));
      RedisScript.lanes.set(redis, lane);
    }
    return lane;
  }

  run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    return RedisScript.laneOf(redis).run(() => redis.evalsha(this.sha, keys.length, ...keys, ...args));
  }

  /**
   * Runs the script and `WAIT replicas timeoutMs` in one pipeline: one round trip, on the connection
   * of the master that ran the script (a Cluster pipeline goes to its keys' node; WAIT has no key, so
   * sent alone it could ask another master). Resolves with the script's reply and how many replicas
   * acknowledged its writes.
   *
   * `replicas` 0 (none to wait for) still sends `WAIT 0` on a Cluster, which answers at once: ioredis
   * redirects a lone EVALSHA that meets MOVED by itself, and calls redirected so can overtake later
   * ones sent straight to the new master, while a pipeline of two different replies it leaves to the
   * lane, which resends in issue order. A single Redis answers no MOVED: the script goes alone.
   */
  runThenWait(
    redis: RedisClient,
    keys: string[],
    args: Array<string | number>,
    replicas: number,
    timeoutMs: number,
  ): Promise<[unknown, number]> {
    if (replicas === 0 && !(redis instanceof Cluster)) return this.run(redis, keys, args).then((reply) => [reply, 0]);
    return RedisScript.laneOf(redis).run(async (): Promise<[unknown, number]> => {
      const pipeline = redis.pipeline();
      pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
      pipeline.wait(replicas, timeoutMs);
      const [[scriptError, reply], [waitError, acked]] = (await pipeline.exec()) ?? [[new Error("no reply")], []];
      if (scriptError) throw scriptError;
      if (waitError) throw waitError;
      return [reply, Number(acked)];
    });
  }
}
