/**
 * Scenarios of PERFORMANCE.md that the harness does not run yet. Each needs only a new driver over
 * the same parts (targets, ClientPool, open loop, report):
 * - S2 knee (T2): S1 at rising rates until p99 > 50 ms or loss.
 * - S4 bursts of 20 (T3): open loop whose due times come in groups of 20.
 * - S5 overload (T6): 2× the knee for 8 s, then S1 load; peak RSS and recovery time.
 * - S6 cross-node (T7, T9): needs packages/cluster-runner's startCluster() as a target.
 * - S7 connections (T10): 10k+ connections, ramp rate and memory.
 * - S8 slow consumers: clients that stop reading; RSS stays bounded.
 */
export const NOT_YET = ["s2", "s4", "s5", "s6", "s7", "s8"] as const;
