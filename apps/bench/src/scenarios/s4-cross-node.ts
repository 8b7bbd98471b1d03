import type { TargetName } from "../targets/target";
import { FANOUT_COLUMNS, FanoutParams, measureFanout } from "./fanout";
import { fanoutScenario, measuredWindow } from "./fanout-scenario";
import type { Column, Scenario } from "./scenario";
import { S1_DEFAULTS } from "./s1-fanout";

export const S4_DEFAULTS: FanoutParams = { ...S1_DEFAULTS, ingress: "http" };

/**
 * ours-cluster and its peer bare-cluster (socket.io + redis-adapter on the same layout) both cross
 * Redis; single-node `ours` (same load) stays runnable with `--target` as the no-Redis baseline.
 */
export const S4_TARGETS: TargetName[] = ["ours-cluster", "bare-cluster"];

const HELPER_CPU: Column = {
  key: "helperCpuPct",
  label: "helpers CPU %",
  doc: "cluster targets: the other nodes + Redis (ours-cluster: + idle nginx); bare, echo: their Redis; % of one core",
  digits: 0,
};

/**
 * S4 (T9, and T7 at 1 subscriber): cross-node fan-out — S1's load, but on the cluster targets
 * (`ours-cluster`, `bare-cluster`) the subscribers hold their sockets on node 1 while the events are
 * posted to node 2, so every event goes through Redis. "server CPU %" is the receiving node's (T9: ≤ 65 %).
 */
export function s4Scenario(params: FanoutParams): Scenario {
  return fanoutScenario({
    name: "s4",
    title: `S4 cross-node fan-out: 1 room × ${params.subscribers} subscribers on node 1, ${params.rate} events/s posted to node 2 (${params.subscribers * params.rate} deliveries/s), ${measuredWindow(params)}`,
    params,
    columns: [
      ...FANOUT_COLUMNS.map((c) =>
        c.key === "serverCpuPct"
          ? { ...c, label: "server CPU %", doc: "the receiving node (cluster targets: node 1), % of one core" }
          : c,
      ),
      HELPER_CPU,
    ],
    defaultTargets: S4_TARGETS,
    slackS: 75,
    run: (target, context) => measureFanout(target, { ...params, ingress: "http" }, context),
  });
}
