import { DEFAULT_PAD_BYTES } from "../load/payload";
import type { FanoutParams } from "./fanout";
import { fanoutScenario, measuredWindow } from "./fanout-scenario";
import type { Scenario } from "./scenario";

export const S1_DEFAULTS: FanoutParams = {
  subscribers: 1000,
  rate: 100,
  durationS: 12,
  warmupS: 2,
  workers: 2,
  ingress: "native",
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 5000,
};

/** S1 (T1, T4): steady fan-out, 1 room × N subscribers, R events/s, each target's usual ingress. */
export function s1Scenario(params: FanoutParams): Scenario {
  return fanoutScenario({
    name: "s1",
    title: `S1 steady fan-out: 1 room × ${params.subscribers} subscribers, ${params.rate} events/s (${params.subscribers * params.rate} deliveries/s), ${measuredWindow(params)}`,
    params,
  });
}
