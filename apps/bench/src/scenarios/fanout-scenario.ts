import type { TargetName } from "../targets/target";
import { FANOUT_COLUMNS, FanoutParams, measureFanout } from "./fanout";
import type { Column, Scenario } from "./scenario";

export interface FanoutScenarioOptions {
  name: string;
  title: string;
  params: FanoutParams;
  columns?: Column[];
  throughputLabel?: string;
  defaultTargets?: TargetName[];
  /** Seconds allowed beyond the run's duration before it is cut (start-up, drain). Default 60. */
  slackS?: number;
  run?: Scenario["run"];
}

/** The Scenario shape every fan-out scenario (S1, S2, S4, S7, S8) shares: only what differs is passed. */
export function fanoutScenario(options: FanoutScenarioOptions): Scenario {
  const { params } = options;
  return {
    name: options.name,
    title: options.title,
    params,
    columns: options.columns ?? FANOUT_COLUMNS,
    chart: {
      latency: ["p50Ms", "p90Ms", "p99Ms", "p999Ms"],
      throughput: "deliveredPerS",
      throughputLabel: options.throughputLabel ?? "delivered/s",
    },
    memoryProbe: false,
    ...(options.defaultTargets ? { defaultTargets: options.defaultTargets } : {}),
    deadlineMs: (params.durationS + (options.slackS ?? 60)) * 1000,
    run: options.run ?? ((target, context) => measureFanout(target, params, context)),
  };
}

/** "… N s measured after W s warm-up", the tail of every fan-out title. */
export const measuredWindow = (params: FanoutParams): string =>
  `${params.durationS - params.warmupS} s measured after ${params.warmupS} s warm-up`;
