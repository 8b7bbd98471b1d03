import { createHash } from "node:crypto";
import type { RedisClient } from "./redis-connections";

/**
 * A Lua script run by its sha (EVALSHA), falling back to EVAL when Redis does not know it yet
 * (first use, a restart). One round trip in the common case; calls made in the same tick share
 * one (the command connection pipelines automatically).
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
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
