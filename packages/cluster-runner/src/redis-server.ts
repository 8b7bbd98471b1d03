import { join } from "node:path";
import { findExecutable } from "./executables";
import { freePort } from "./free-port";
import { ManagedProcess, spawnManaged } from "./managed-process";

export interface OwnRedis {
  process: ManagedProcess;
  url: string;
}

const ATTEMPTS = 3;

/**
 * A throw-away redis-server on a free 127.0.0.1 port: nothing saved, nothing shared with another run.
 * (Its `--port 0` would mean "no TCP at all", hence the free-port pick and a retry if it was taken.)
 */
export async function startRedisServer(options: {
  dir: string;
  logsDir: string;
  timeoutMs: number;
}): Promise<OwnRedis> {
  const command = findExecutable("redis-server");
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const redis = await spawnManaged({
      name: "redis",
      command,
      // prettier-ignore
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", options.dir, "--daemonize", "no", "--loglevel", "notice"],
      env: { PATH: process.env.PATH ?? "" },
      cwd: options.dir,
      logFile: join(options.logsDir, "redis.log"),
    });
    try {
      await redis.waitForLine((line) => line.includes("Ready to accept connections"), options.timeoutMs);
      return { process: redis, url: `redis://127.0.0.1:${port}` };
    } catch (error) {
      await redis.stop("SIGKILL", 1000);
      if (attempt >= ATTEMPTS || !String(error).includes("in use")) throw error;
    }
  }
}
