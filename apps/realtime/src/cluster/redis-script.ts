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

  /**
   * SCRIPT LOAD of every script (on every master of a Redis Cluster), done at start: a first call
   * that meets NOSCRIPT and falls back to EVAL can be overtaken by a later call whose EVALSHA finds
   * the script the fallback just loaded, and two publishes would reach the bus out of order.
   */
  /** The shas of every script `loadAll` loads. */
  static shas(): string[] {
    return RedisScript.all.map((script) => script.sha);
  }

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
}
