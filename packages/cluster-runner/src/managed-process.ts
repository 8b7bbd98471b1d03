import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnSpec {
  /** Short name used in error messages ("redis", "node-2", "nginx"). */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

/** A child process of the runner: output to a log file, an awaitable exit, a stop with a deadline. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly running: boolean;
  /** Resolves once the process has exited and its output is flushed to the log file. */
  readonly exited: Promise<ExitStatus>;
  /**
   * The first output line passing `test` from now on; rejects (with the log tail) if the process
   * exits first or `timeoutMs` passes.
   */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Sends `signal`; if the process is still there after `graceMs`, SIGKILLs its whole process group. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<ExitStatus>;
}

/** Resolves once the process has started (so it has a pid); rejects when it cannot (ENOENT, EACCES). */
export async function spawnManaged(spec: SpawnSpec): Promise<ManagedProcess> {
  const log = createWriteStream(spec.logFile, { flags: "a" });
  // detached: its own process group, so a terminal's Ctrl-C reaches only the runner, which then stops
  // the parts in order (nodes before Redis), and so a stuck nginx can be killed with its workers.
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (error) {
    await new Promise((resolve) => log.end(resolve));
    throw new Error(`${spec.name}: cannot start ${spec.command}: ${(error as Error).message}`);
  }
  const pid = child.pid as number;

  const lineWatchers = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr] as Readable[]) {
    stream.pipe(log, { end: false });
    watchLines(
      stream,
      (line) => lineWatchers.forEach((watcher) => watcher(line)),
      () => lineWatchers.size > 0,
    );
  }

  let running = true;
  const exited = new Promise<ExitStatus>((resolve) => {
    // "close" comes after "exit" and after both pipes have ended, so the log is complete.
    child.once("close", (code, signal) => {
      running = false;
      log.end(() => resolve({ code, signal }));
    });
  });

  const managed: ManagedProcess = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    get running() {
      return running;
    },
    exited,
    waitForLine(test, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const settle = (outcome: () => void): void => {
          if (!lineWatchers.delete(watcher)) return;
          clearTimeout(timer);
          outcome();
        };
        const watcher = (line: string): void => {
          if (test(line)) settle(() => resolve(line));
        };
        const timer = setTimeout(
          () => settle(() => reject(new Error(`${spec.name} was not ready within ${timeoutMs} ms`))),
          timeoutMs,
        );
        lineWatchers.add(watcher);
        void exited.then(async (status) => {
          if (!lineWatchers.has(watcher)) return;
          const log = await tail(spec.logFile);
          settle(() => reject(new Error(`${spec.name} exited (${describeExit(status)}) before it was ready\n${log}`)));
        });
      });
    },
    async stop(signal, graceMs) {
      if (!running) return exited;
      child.kill(signal);
      const deadline = setTimeout(() => {
        // Only while the leader is unreaped is the group id surely still ours (no pid reuse).
        if (running) killGroup(pid);
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(deadline);
      }
    },
  };
  return managed;
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

/** The last lines of a log file, for error messages. */
export async function tail(file: string, lines = 25): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Calls `onLine` per complete line, but only splits while `active()`: a busy node logs a lot and the
 * runner may share its process with a benchmark.
 */
function watchLines(stream: Readable, onLine: (line: string) => void, active: () => boolean): void {
  let partial = "";
  stream.on("data", (chunk: Buffer) => {
    if (!active()) {
      partial = "";
      return;
    }
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
}
