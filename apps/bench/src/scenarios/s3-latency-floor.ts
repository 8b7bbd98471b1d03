import { DEFAULT_PAD_BYTES } from "../load/payload";
import { FANOUT_COLUMNS, FanoutParams, measureFanout } from "./fanout";
import type { Column, Scenario } from "./scenario";

export const S3_DEFAULTS: FanoutParams = {
  subscribers: 1,
  rate: 200,
  durationS: 12,
  warmupS: 2,
  workers: 1,
  ingress: "http",
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 3000,
};

const PER_CALL: Column = {
  key: "cpuUsPerCall",
  label: "CPU µs/call",
  doc: "server CPU per HTTP broadcast call (T8), its one delivery included",
  digits: 1,
};

/**
 * S3 (T7, T8): the latency floor — one subscriber, every event through the HTTP API (echo's too),
 * at a rate low enough that nothing queues; and what one API call costs the server.
 */
export function s3Scenario(params: FanoutParams): Scenario {
  return {
    name: "s3",
    title: `S3 latency floor: 1 subscriber, ${params.rate} HTTP broadcasts/s, ${params.durationS - params.warmupS} s measured`,
    params,
    columns: [
      ...FANOUT_COLUMNS.filter((c) => !["deliveredPerS", "cpuUsPerDelivery", "packetBytes"].includes(c.key)),
      PER_CALL,
      {
        key: "sendP50Ms",
        label: "p50 from send ms",
        doc: "latency from the actual send: without the publisher's timer lateness (≤ 1 ms)",
        digits: 2,
      },
      { key: "sendP99Ms", label: "p99 from send ms", doc: "", digits: 2 },
    ],
    chart: {
      latency: ["p50Ms", "p90Ms", "p99Ms", "p999Ms"],
      throughput: "cpuUsPerCall",
      throughputLabel: "CPU µs per call",
    },
    memoryProbe: false,
    deadlineMs: (params.durationS + 45) * 1000,
    run: (target, context) => measureFanout(target, { ...params, ingress: "http" }, context),
  };
}
