/**
 * Scenarios of issue 5 that the harness does not run yet (numbered as the issue numbers them). S1–S4
 * and S6–S8 are implemented: S2 bursts as s2-bursts.ts over S1's fan-out, S4 cross-node as
 * s4-cross-node.ts over the `ours-cluster` target, S6 connection churn as s6-churn.ts (a churn worker
 * over held subscribers), S7 slow consumers as s7-slow-consumers.ts (S1 with 5 % of the subscribers
 * paused), S8 through nginx as s8-nginx.ts (S1 behind the repository's nginx template). What is left
 * needs only a new driver over the same parts (targets, ClientPool, open loop, report):
 * - S5 many small rooms over 2–3 nodes: Redis and node CPU when rooms have members on few nodes.
 * Also the knee (T2: S1 at rising rates until p99 > 50 ms) and overload (T6: 2× the knee for 8 s).
 */
export const NOT_YET = ["s5"] as const;
