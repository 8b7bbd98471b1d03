import { DEFAULT_PAD_BYTES } from "../load/payload";
import { FANOUT_COLUMNS, FanoutParams, measureFanout } from "./fanout";
import type { Scenario } from "./scenario";

export const S2_DEFAULTS: FanoutParams = {
  subscribers: 1000,
  // 10 bursts/s × 20 events: T3's 200k deliveries/s with 1000 subscribers.
  rate: 200,
  burst: 20,
  durationS: 12,
  warmupS: 2,
  workers: 2,
  ingress: "native",
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 5000,
};

/**
 * S2 (T3): bursts — S1's fan-out, but the open loop's due times come in groups of `burst` events sent
 * back to back (R/burst bursts per second); latency is still from each event's due time.
 */
export function s2Scenario(params: FanoutParams): Scenario {
  const burst = params.burst ?? 1;
  const bursts = params.rate / burst;
  return {
    name: "s2",
    title: `S2 bursts: 1 room × ${params.subscribers} subscribers, ${bursts} bursts/s of ${burst} events (${params.rate} events/s, ${params.subscribers * params.rate} deliveries/s), ${params.durationS - params.warmupS} s measured after ${params.warmupS} s warm-up`,
    params,
    columns: FANOUT_COLUMNS,
    chart: {
      latency: ["p50Ms", "p90Ms", "p99Ms", "p999Ms"],
      throughput: "deliveredPerS",
      throughputLabel: "delivered/s",
    },
    memoryProbe: false,
    deadlineMs: (params.durationS + 60) * 1000,
    run: (target, context) => measureFanout(target, params, context),
  };
}
