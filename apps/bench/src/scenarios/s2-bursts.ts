import type { FanoutParams } from "./fanout";
import { fanoutScenario, measuredWindow } from "./fanout-scenario";
import type { Scenario } from "./scenario";
import { S1_DEFAULTS } from "./s1-fanout";

export const S2_DEFAULTS: FanoutParams = {
  ...S1_DEFAULTS,
  // 10 bursts/s × 20 events: T3's 200k deliveries/s with 1000 subscribers.
  rate: 200,
  burst: 20,
};

/**
 * S2 (T3): bursts — S1's fan-out, but the open loop's due times come in groups of `burst` events sent
 * back to back (R/burst bursts per second); latency is still from each event's due time.
 */
export function s2Scenario(params: FanoutParams): Scenario {
  const burst = params.burst ?? 1;
  const bursts = params.rate / burst;
  return fanoutScenario({
    name: "s2",
    title: `S2 bursts: 1 room × ${params.subscribers} subscribers, ${bursts} bursts/s of ${burst} events (${params.rate} events/s, ${params.subscribers * params.rate} deliveries/s), ${measuredWindow(params)}`,
    params,
  });
}
