/** When each event of an open loop is due: event i at `dueAt(i)` (whole µs, shared monotonic clock). */
export interface DueSchedule {
  count: number;
  dueAt(i: number): number;
}

/** A stretch of an open loop at one rate. */
export interface RatePhase {
  name: string;
  /** Events per second. */
  rate: number;
  durationS: number;
}

export interface PhasedSchedule extends DueSchedule {
  phases: RatePhase[];
  /** Index of the phase event i belongs to. */
  phaseOf(i: number): number;
  /** Index of the first event of each phase, then `count`. */
  firstEvent: number[];
  /** Start of each phase (µs), then the end of the last one. */
  boundsUs: number[];
}

/** Evenly spaced, or (burst k > 1) in groups of k all due at t0 + b·k/R: S1, S2 and the others. */
export function evenSchedule(t0Us: number, rate: number, count: number, burst = 1): DueSchedule {
  const k = Math.max(1, Math.floor(burst));
  return { count, dueAt: (i) => t0Us + Math.floor((Math.floor(i / k) * k * 1e6) / rate) };
}

/**
 * Phases back to back (knee steps, overload's baseline → overload → recovery): phase p holds
 * round(rate·duration) events evenly spaced from its own start, whatever the rate before it was.
 */
export function phasedSchedule(t0Us: number, phases: RatePhase[]): PhasedSchedule {
  const boundsUs = [t0Us];
  const firstEvent = [0];
  for (const phase of phases) {
    boundsUs.push(boundsUs[boundsUs.length - 1] + Math.round(phase.durationS * 1e6));
    firstEvent.push(firstEvent[firstEvent.length - 1] + Math.max(0, Math.round(phase.rate * phase.durationS)));
  }
  const count = firstEvent[phases.length];
  const phaseOf = (i: number): number => {
    let p = 0;
    while (p < phases.length - 1 && i >= firstEvent[p + 1]) p++;
    return p;
  };
  return {
    phases,
    count,
    firstEvent,
    boundsUs,
    phaseOf,
    dueAt: (i) => {
      const p = phaseOf(i);
      return boundsUs[p] + Math.floor(((i - firstEvent[p]) * 1e6) / phases[p].rate);
    },
  };
}
