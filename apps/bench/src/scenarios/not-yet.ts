/**
 * Scenarios of issue 5 that the harness does not run yet (numbered as the issue numbers them). Each
 * needs only a new driver over the same parts (targets, ClientPool, open loop, report):
 * - S2 bursts of 20 (T3): open loop whose due times come in groups of 20.
 * - S4 cross-node (T7, T9): needs packages/cluster-runner's startCluster() as a target.
 * - S5 many small rooms over 2–3 nodes: Redis and node CPU when rooms have members on few nodes.
 * - S6 connection churn (T10): connect/disconnect rate, with 10k+ connections held.
 * - S7 slow consumers: 5 % of clients stop reading; RSS stays bounded.
 * - S8 through nginx.
 * Also the knee (T2: S1 at rising rates until p99 > 50 ms) and overload (T6: 2× the knee for 8 s).
 */
export const NOT_YET = ["s2", "s4", "s5", "s6", "s7", "s8"] as const;
