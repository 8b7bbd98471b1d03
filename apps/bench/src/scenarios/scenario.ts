import type { Pinning } from "../proc/pinning";
import type { RunningTarget, TargetName } from "../targets/target";

/** One run's figures, by column key (see each scenario's `columns`). */
export type Metrics = Record<string, number>;

export interface Column {
  key: string;
  label: string;
  /** What the figure means, for the docs and the Markdown legend. */
  doc: string;
  digits: number;
  /** Shown for runs without a finite figure (e.g. "not recovered", "none"); default "—". */
  missing?: string;
}

export interface RunContext {
  pinning: Pinning;
  /** Where load workers write V8 CPU profiles (`--cpu-prof`), or undefined. */
  cpuProfileDir?: string;
  log: (line: string) => void;
}

export interface RunOutput {
  metrics: Metrics;
  /** Anything worth keeping in the JSON but not in the table (e.g. worst latency per second). */
  detail?: object;
}

export interface Scenario {
  name: string;
  title: string;
  /** Parameters as run, for the JSON and the report header. */
  params: object;
  columns: Column[];
  /** Keys of latency columns (ms) and of the throughput column, for the chart. */
  chart?: { latency: string[]; throughput: string; throughputLabel: string };
  memoryProbe: boolean;
  /** Targets run when no `--target` is given (default: TARGET_NAMES, the four single-node ones). */
  defaultTargets?: TargetName[];
  /** Nodes of the cluster targets (`--nodes`; S5: 3); absent: DEFAULT_CLUSTER_NODES (2). */
  clusterNodes?: number;
  /** A run taking longer than this is abandoned (its processes stopped). */
  deadlineMs: number;
  run(target: RunningTarget, context: RunContext): Promise<RunOutput>;
  /** Reasons a run's result is not valid (quick: anything lost). */
  verify?(metrics: Metrics): string[];
}

export interface RunRecord {
  target: TargetName;
  run: number;
  ok: boolean;
  error?: string;
  problems: string[];
  /** Why the figures may be disturbed (other jobs, a saturated generator, a slow host); empty if clean. */
  noise: string[];
  /** Noisy attempts that were run again (kept for the record). */
  discarded?: RunRecord[];
  metrics: Metrics;
  detail?: object;
}
