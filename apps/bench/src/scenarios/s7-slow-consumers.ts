import { FANOUT_COLUMNS, FanoutParams, slowConnections } from "./fanout";
import { fanoutScenario, measuredWindow } from "./fanout-scenario";
import type { Column, Scenario } from "./scenario";
import { S1_DEFAULTS } from "./s1-fanout";

export const S7_DEFAULTS: FanoutParams = { ...S1_DEFAULTS, slowEvery: 20 };

export const S7_COLUMNS: Column[] = [
  ...FANOUT_COLUMNS.map((c) =>
    c.key === "lossPct" ? { ...c, doc: "accepted events × healthy subscribers not received (must be 0)" } : c,
  ),
  {
    key: "peakRssMb",
    label: "peak RSS MB",
    doc: "server resident memory, highest of the samples taken every 200 ms from the first event to the end of the drain",
    digits: 0,
  },
  { key: "slowClients", label: "slow clients", doc: "connections that stopped reading after the warm-up", digits: 0 },
  {
    key: "slowCut",
    label: "slow cut",
    doc: "slow connections the server closed or reset (seen once they read again, after the drain)",
    digits: 0,
  },
];

/**
 * S7 (issue 5): S1's fan-out, but every 20th subscriber (5 %) stops reading from its TCP socket when
 * the warm-up ends (`socket.pause()`: the kernel buffers fill, then the server's own). The fan-out
 * columns are the healthy 95 %'s; a server that buffers without bound shows it in peak RSS, one that
 * cuts slow consumers in "slow cut".
 */
export function s7Scenario(params: FanoutParams): Scenario {
  const slow = slowConnections(params.subscribers, params.workers, params.slowEvery ?? 0);
  return fanoutScenario({
    name: "s7",
    title: `S7 slow consumers: 1 room × ${params.subscribers} subscribers (${slow} stop reading after the warm-up), ${params.rate} events/s, ${params.padBytes} B pad, ${measuredWindow(params)}`,
    params,
    columns: S7_COLUMNS,
    throughputLabel: "delivered/s (healthy)",
    slackS: 70,
  });
}
