import { cpus } from "node:os";
import { createPinning, pinSelfToHelperCore } from "./proc/pinning";
import type { ReportHeader } from "./report/markdown";
import { writeResults, WrittenResults } from "./report/write-results";
import { runMatrix } from "./scenarios/run-matrix";
import type { RunRecord, Scenario } from "./scenarios/scenario";
import type { TargetName } from "./targets/target";

export interface BenchOptions {
  scenario: Scenario;
  targets: TargetName[];
  runs: number;
  /** Server on core 0, generator on core 1 (when taskset and 2 cores exist). */
  pin: boolean;
  outDir: string;
  cpuProfileDir?: string;
  socketEventRateLimit?: number;
  /** The cluster targets run on a local Redis Cluster (3 masters + 3 replicas) instead of one Redis. */
  redisCluster?: boolean;
  /** Wait up to this long before each run for other jobs on the machine to finish (default 0). */
  waitQuietMs?: number;
  /** Run a noisy run again up to this many times (default 0). */
  retryNoisy?: number;
  log?: (line: string) => void;
}

export interface BenchResult extends WrittenResults {
  records: RunRecord[];
  pinned: boolean;
}

/** Runs one scenario over the targets and writes the results; the CLI and the tests both call this. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pinning = createPinning(options.pin);
  pinSelfToHelperCore(pinning);
  const scenario = options.redisCluster
    ? { ...options.scenario, title: `${options.scenario.title}; on a local Redis Cluster (3 masters + 3 replicas)` }
    : options.scenario;
  const records = await runMatrix(scenario, {
    targets: options.targets,
    runs: options.runs,
    target: {
      pinning,
      cpuProfileDir: options.cpuProfileDir,
      socketEventRateLimit: options.socketEventRateLimit ?? 1000,
      redisCluster: options.redisCluster ?? false,
    },
    context: { pinning, log, cpuProfileDir: options.cpuProfileDir },
    waitQuietMs: options.waitQuietMs ?? 0,
    retryNoisy: options.retryNoisy ?? 0,
  });
  const header: ReportHeader & { environment: object } = {
    date: new Date().toISOString(),
    machine: `${cpus().length}× ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}, ${pinning.enabled ? "server pinned to core 0, generator to core 1" : "not pinned"}${options.cpuProfileDir ? ", servers under --cpu-prof" : ""}`,
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      pinned: pinning.enabled,
      cpuProfile: Boolean(options.cpuProfileDir),
      redis: options.redisCluster ? "cluster (3 masters + 3 replicas)" : "single",
    },
  };
  const written = writeResults(options.outDir, scenario, records, options.targets, header);
  return { ...written, records, pinned: pinning.enabled };
}
