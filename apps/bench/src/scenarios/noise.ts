import type { Metrics } from "./scenario";
import { GENERATOR_LIMIT_PCT } from "./fanout";

/** Other jobs' CPU (% of one core) above which a run counts as disturbed. */
export const OTHER_CPU_LIMIT_PCT = 25;
/** Core loop slower than this × the session's best: the host was taking CPU away. */
export const SLOWDOWN_LIMIT = 1.4;

/** Why a run's figures are not the server's alone; empty when the run was clean. */
export function noiseOf(metrics: Metrics, bestLoopMs: number): string[] {
  const reasons: string[] = [];
  if (metrics.otherCpuPct > OTHER_CPU_LIMIT_PCT) reasons.push(`other jobs ${metrics.otherCpuPct.toFixed(0)} % CPU`);
  if (metrics.genCpuPct > GENERATOR_LIMIT_PCT) reasons.push(`generator ${metrics.genCpuPct.toFixed(0)} %`);
  const loop = Math.max(metrics.coreLoopMsBefore ?? 0, metrics.coreLoopMsAfter ?? 0);
  if (bestLoopMs > 0 && loop > SLOWDOWN_LIMIT * bestLoopMs) {
    reasons.push(`server core ${(loop / bestLoopMs).toFixed(1)}× slower than its best`);
  }
  return reasons;
}
