import type { ChildProcess } from "node:child_process";
import { spawnTracked, stopChild } from "../proc/children";
import { drain, listeningPort, waitForLine } from "../proc/lines";
import type { HeapSample, TargetOptions } from "./target";
import { gcProbeArgs, requestHeapSample } from "./gc-probe-client";

export interface StartedNode {
  child: ChildProcess;
  port: number;
  heapAfterGc?: () => Promise<HeapSample>;
  stop(): Promise<void>;
}

/**
 * Starts a Node.js server program pinned to the server core, with the instruments the options ask
 * for, and waits for its `{"msg":"listening","port":N}` line.
 */
export async function startNodeServer(
  what: string,
  script: string,
  env: Record<string, string>,
  options: TargetOptions,
  extraArgs: string[] = [],
): Promise<StartedNode> {
  const child = spawnNode(what, script, env, options, extraArgs);
  try {
    const port = await waitForLine(child.stdout!, listeningPort, 15_000, what);
    drain(child.stdout);
    return withInstruments(child, port, options);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

export function spawnNode(
  what: string,
  script: string,
  env: Record<string, string>,
  options: TargetOptions,
  extraArgs: string[] = [],
  cwd?: string,
): ChildProcess {
  const nodeArgs = [...gcProbeArgs(options.memoryProbe), ...cpuProfileArgs(what, options.cpuProfileDir)];
  const [command, args] = options.pinning.server(process.execPath, [...nodeArgs, script, ...extraArgs]);
  const child = spawnTracked(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    // fd 3 is the IPC channel the GC probe answers on.
    stdio: options.memoryProbe ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  keepStderrTail(child, what);
  return child;
}

export function withInstruments(child: ChildProcess, port: number, options: TargetOptions): StartedNode {
  return {
    child,
    port,
    heapAfterGc: options.memoryProbe ? () => requestHeapSample(child) : undefined,
    stop: () => stopChild(child),
  };
}

export function cpuProfileArgs(what: string, dir: string | undefined): string[] {
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${what}-${Date.now()}.cpuprofile`] : [];
}

/** Servers' stderr is read (a full pipe would block them) and its tail shown if they die. */
function keepStderrTail(child: ChildProcess, what: string): void {
  let tail = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-2000);
  });
  child.once("exit", (code, signal) => {
    if (code !== 0 && code !== null && signal === null) {
      process.stderr.write(`bench: ${what} exited with code ${code}\n${tail}\n`);
    }
  });
}
