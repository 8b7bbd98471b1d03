import { spawn, ChildProcess, SpawnOptions } from "node:child_process";

/**
 * Every process the bench starts is registered here, so that an error, a SIGINT or a plain exit
 * never leaves a server, Redis or load worker behind. Only these pids are ever signalled.
 */
const alive = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  alive.add(child);
  child.once("exit", () => alive.delete(child));
  return child;
}

/** Pids started by a library on our behalf (the cluster runner's nodes, Redis, nginx). */
const alivePids = new Set<number>();

/** Registers pids for the last-resort kill on exit; returns the function that forgets them again. */
export function trackPids(pids: number[]): () => void {
  for (const pid of pids) alivePids.add(pid);
  return () => {
    for (const pid of pids) alivePids.delete(pid);
  };
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(spawn(command, args, options));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves true once `child` has exited, false after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Last resort on the way out: synchronous, so it also works from an `exit` handler. */
export function killAllNow(): void {
  for (const child of alive) child.kill("SIGKILL");
  alive.clear();
  for (const pid of alivePids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  alivePids.clear();
}

let installed = false;

/** Kills the children on exit and turns SIGINT/SIGTERM into a clean exit (code 130/143). */
export function installExitCleanup(): void {
  if (installed) return;
  installed = true;
  process.once("exit", killAllNow);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${alive.size + alivePids.size} process(es)\n`);
      killAllNow();
      process.exit(code);
    });
  }
}
