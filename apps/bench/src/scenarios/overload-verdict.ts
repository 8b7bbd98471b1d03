import type { SendOutcome } from "../load/open-loop";

/** T1's p99 (ms): overload's recovery is the return under it. */
export const RECOVERY_P99_LIMIT_MS = 15;

/**
 * Seconds from the end of the overload (`fromS`, seconds since t0) until the per-second p99 of the
 * events due in each second is back under `limitMs` and stays there until `untilS` (the end of the
 * recovery phase): r − fromS for the first whole second r ≥ fromS from which every second is under.
 * 1 s resolution, an upper bound (0: the events due right after the overload were already on time).
 * A second without deliveries counts as over. Undefined: not recovered within the recovery phase.
 */
export function recoverySeconds(
  perSecondP99Ms: Array<number | undefined>,
  fromS: number,
  untilS: number,
  limitMs = RECOVERY_P99_LIMIT_MS,
): number | undefined {
  const first = Math.ceil(fromS - 1e-9);
  const last = Math.floor(untilS + 1e-9) - 1;
  let recoveredAt: number | undefined;
  for (let second = last; second >= first; second--) {
    const p99 = perSecondP99Ms[second];
    if (p99 === undefined || !(p99 <= limitMs)) break;
    recoveredAt = second;
  }
  return recoveredAt === undefined ? undefined : Math.max(0, recoveredAt - fromS);
}

export type OutcomeTally = Record<SendOutcome, number>;

/** Counts each due event's outcome by phase (`phaseOf` of the schedule). */
export function outcomeTally(phases: number, phaseOf: (index: number) => number) {
  const tallies: OutcomeTally[] = Array.from({ length: phases }, () => ({ accepted: 0, rejected: 0, skipped: 0 }));
  return {
    tallies,
    record: (index: number, outcome: SendOutcome): void => void tallies[phaseOf(index)][outcome]++,
  };
}
