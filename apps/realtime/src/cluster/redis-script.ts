import { createHash } from "node:crypto";
import type { RedisClient } from "./redis-connections";

/**
 * A Lua script run by its sha (EVALSHA), falling back to EVAL when Redis does not know it yet
 * (first use, a restart). One round trip in the common case; calls made in the same tick share
 * one (the command connection pipelines automatically).
 */
export class RedisScript {
  /** Every script of the node, for `loadAll`. */
  private static readonly all: RedisScript[] = [];
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
    RedisScript.all.push(this);
  }

  /** The shas of every script `loadAll` loads. */
  static shas(): string[] {
    return RedisScript.all.map((script) => script.sha);
  }

  /**
   * SCRIPT LOAD of every script (on every master of a Redis Cluster), done at start: a first call
   * that meets NOSCRIPT and falls back to EVAL can be overtaken by a later call whose EVALSHA finds
   * the script the fallback just loaded, and two publishes would reach the bus out of order.
   */
  static async loadAll(redis: RedisClient): Promise<void> {
    const targets = "nodes" in redis && typeof redis.nodes === "function" ? redis.nodes("master") : [redis];
    await Promise.all(targets.flatMap((target) => RedisScript.all.map((script) => target.script("LOAD", script.lua))));
  }

  async run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }

  /**
   * Runs the script and `WAIT 1 timeoutMs` in one pipeline: one round trip, on the connection of the
   * master that ran the script (a Cluster pipeline goes to its keys' node; WAIT has no key, so sent
   * alone it could ask another master). Resolves with the script's reply and how many replicas
   * acknowledged its writes.
   */
  async runThenWait(
    redis: RedisClient,
    keys: string[],
    args: Array<string | number>,
    timeoutMs: number,
  ): Promise<[unknown, number]> {
    const attempt = async (useSha: boolean): Promise<[unknown, number]> => {
      const pipeline = redis.pipeline();
      if (useSha) pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
      else pipeline.eval(this.lua, keys.length, ...keys, ...args);
      pipeline.wait(1, timeoutMs);
      const [[scriptError, reply], [waitError, acked]] = (await pipeline.exec()) ?? [[new Error("no reply")], []];
      if (scriptError) throw scriptError;
      if (waitError) throw waitError;
      return [reply, Number(acked)];
    };
    try {
      return await attempt(true);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return attempt(false);
    }
  }
}
