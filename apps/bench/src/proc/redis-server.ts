import { spawnTracked, stopChild } from "./children";
import { freePort } from "./free-port";
import { drain, waitForLine } from "./lines";
import type { Pinning } from "./pinning";

export interface RunningRedis {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A private, non-persistent Redis on a free port, for the targets that need one. */
export async function startRedis(pinning: Pinning): Promise<RunningRedis> {
  const port = await freePort();
  const [command, args] = pinning.helper("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
  ]);
  const child = spawnTracked(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  drain(child.stderr);
  try {
    await waitForLine(
      child.stdout!,
      (line) => (/Ready to accept connections/.test(line) ? true : undefined),
      10_000,
      "redis-server",
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  drain(child.stdout);
  return { port, pid: child.pid!, stop: () => stopChild(child) };
}
