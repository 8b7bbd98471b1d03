/**
 * Scenarios of issue 5 that the harness does not run yet (numbered as the issue numbers them). S1–S8
 * are implemented: S2 bursts as s2-bursts.ts over S1's fan-out, S4 cross-node as s4-cross-node.ts over
 * the `ours-cluster` and `bare-cluster` targets, S5 many small rooms over 2–3 nodes as s5-small-rooms.ts
 * (rooms laid out over the nodes by s5-rooms.ts), S6 connection churn as s6-churn.ts (a churn worker
 * over held subscribers), S7 slow consumers as s7-slow-consumers.ts (S1 with 5 % of the subscribers
 * paused), S8 through nginx as s8-nginx.ts (S1 behind the repository's nginx template). The knee (T2)
 * is knee.ts (S1 at rising rates until p99 > 50 ms) and overload (T6) overload.ts (2× the knee for 8 s).
 * What is left needs only a new driver over the same parts (targets, ClientPool, open loop, report).
 */
export const NOT_YET: readonly string[] = [];
