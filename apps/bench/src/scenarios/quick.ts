import { DEFAULT_PAD_BYTES } from "../load/payload";
import { FANOUT_COLUMNS, FanoutParams, measureFanout } from "./fanout";
import type { Metrics, Scenario } from "./scenario";

export const QUICK_DEFAULTS: FanoutParams = {
  subscribers: 50,
  rate: 20,
  durationS: 3,
  warmupS: 0,
  workers: 1,
  ingress: "native",
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 3000,
};

/**
 * A smoke run of the whole harness (≤ 30 s for four targets): only asserts that every target
 * delivered every accepted event to every subscriber, exactly once and in order.
 */
export function quickScenario(params: FanoutParams = QUICK_DEFAULTS): Scenario {
  return {
    name: "quick",
    title: `quick: ${params.subscribers} subscribers × ${params.rate} events/s × ${params.durationS} s, delivery check only`,
    params,
    columns: FANOUT_COLUMNS.filter((c) =>
      ["deliveredPerS", "lossPct", "p50Ms", "p99Ms", "serverCpuPct", "packetBytes"].includes(c.key),
    ),
    memoryProbe: false,
    deadlineMs: 25_000,
    run: (target, context) => measureFanout(target, params, context),
    verify: (metrics) => deliveryProblems(metrics, params),
  };
}

export function deliveryProblems(metrics: Metrics, params: FanoutParams): string[] {
  const problems: string[] = [];
  const events = Math.round(params.rate * params.durationS);
  if (metrics.published !== events) problems.push(`published ${metrics.published} of ${events} events`);
  if (metrics.accepted !== metrics.published) problems.push(`${metrics.published - metrics.accepted} events refused`);
  if (metrics.subscribers !== params.subscribers)
    problems.push(`${metrics.subscribers} of ${params.subscribers} subscribed`);
  if (metrics.minPerSubscriber !== metrics.accepted || metrics.maxPerSubscriber !== metrics.accepted) {
    problems.push(
      `per subscriber ${metrics.minPerSubscriber}–${metrics.maxPerSubscriber} of ${metrics.accepted} events`,
    );
  }
  if (metrics.loss > 0) problems.push(`${metrics.loss} deliveries lost`);
  if (metrics.outOfOrder > 0) problems.push(`${metrics.outOfOrder} duplicate or out-of-order deliveries`);
  if (metrics.dropped > 0) problems.push(`${metrics.dropped} subscribers disconnected`);
  return problems;
}
