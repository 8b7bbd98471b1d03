import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux almost always). */
const CLOCK_TICKS = ((): number => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system) a process has used so far, in µs; undefined once it is gone. */
export function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces: count fields from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime (14) + stime (15)
    return (ticks * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU of a set of processes between `start()` and `read()`, as % of one core. */
export function cpuMeter(pids: number[]) {
  const total = (): number => pids.reduce((sum, pid) => sum + (cpuMicros(pid) ?? 0), 0);
  let startCpu = 0;
  let startAt = 0;
  return {
    start(): void {
      startCpu = total();
      startAt = performance.now();
    },
    /** `{cpuUs, wallUs, percent}` since start(). */
    read() {
      const cpuUs = total() - startCpu;
      const wallUs = (performance.now() - startAt) * 1000;
      return { cpuUs, wallUs, percent: wallUs > 0 ? (100 * cpuUs) / wallUs : 0 };
    },
  };
}

/** Busy CPU time of the whole machine so far (all cores, µs): /proc/stat minus idle and iowait. */
export function machineBusyMicros(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle (3) and iowait (4).
  const busy = ticks.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
  return (busy * 1e6) / CLOCK_TICKS;
}

/** Like cpuMeter, for the whole machine: what else ran during a window (other people's jobs). */
export function machineMeter() {
  let startCpu = 0;
  let startAt = 0;
  return {
    start(): void {
      startCpu = machineBusyMicros();
      startAt = performance.now();
    },
    read() {
      const cpuUs = machineBusyMicros() - startCpu;
      const wallUs = (performance.now() - startAt) * 1000;
      return { cpuUs, wallUs, percent: wallUs > 0 ? (100 * cpuUs) / wallUs : 0 };
    },
  };
}
