import { execFileSync } from "node:child_process";
import { cpus } from "node:os";

/**
 * Core layout of a run (PERFORMANCE.md, method 1): the server alone on core 0, everything that
 * drives or observes it (publisher, load workers, Redis) on core 1.
 */
export interface Pinning {
  enabled: boolean;
  /** Prefix for a server command: `taskset -c 0`. */
  server(command: string, args: string[]): [string, string[]];
  /** Prefix for a helper command: `taskset -c 1`. */
  helper(command: string, args: string[]): [string, string[]];
}

export function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function createPinning(wanted: boolean): Pinning {
  const enabled = wanted && cpus().length >= 2 && hasTaskset();
  const prefix =
    (core: number) =>
    (command: string, args: string[]): [string, string[]] =>
      enabled ? ["taskset", ["-c", String(core), command, ...args]] : [command, args];
  return { enabled, server: prefix(0), helper: prefix(1) };
}

/** Moves this process (all its threads) to core 1; forked workers inherit the affinity. */
export function pinSelfToHelperCore(pinning: Pinning): void {
  if (!pinning.enabled) return;
  execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
}
