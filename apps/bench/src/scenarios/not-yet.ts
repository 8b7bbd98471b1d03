/**
 * Scenarios of issue 5 that the harness does not run yet (numbered as the issue numbers them; S1–S4
 * are implemented: S2 bursts as s2-bursts.ts over S1's fan-out, S4 cross-node as s4-cross-node.ts
 * over the `ours-cluster` target). Each needs only a new driver over the same parts (targets,
 * ClientPool, open loop, report):
 * - S5 many small rooms over 2–3 nodes: Redis and node CPU when rooms have members on few nodes.
 * - S6 connection churn (T10): connect/disconnect rate, with 10k+ connections held.
 * - S7 slow consumers: 5 % of clients stop reading; RSS stays bounded.
 * - S8 through nginx.
 * Also the knee (T2: S1 at rising rates until p99 > 50 ms) and overload (T6: 2× the knee for 8 s).
 */
export const NOT_YET = ["s5", "s6", "s7", "s8"] as const;
