/** T2: a step counts while its p99 stays at or under this (ms). */
export const KNEE_P99_LIMIT_MS = 50;

/** One step of the knee scenario, as measured (also the JSON detail's per-step record). */
export interface KneeStep {
  /** Events per second into the room during the step. */
  rate: number;
  published: number;
  accepted: number;
  /** Publishes answered non-2xx or failed (error, timeout). */
  rejected: number;
  /** Due but not sent: the publisher's bound of pending publishes was reached. */
  skipped: number;
  /** Accepted events × subscribers not received by the end of the step's drain. */
  loss: number;
  lossPct: number;
  deliveredPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuPct: number;
  cpuUsPerDelivery: number;
  genCpuPct: number;
  otherCpuPct: number;
  answerP99Ms: number;
  rssMb: number;
}

/** Why a step ends the climb ("p99 73.1 ms > 50", "412 deliveries lost", …); empty when it passed. */
export function stepFailures(step: KneeStep, p99LimitMs = KNEE_P99_LIMIT_MS): string[] {
  const reasons: string[] = [];
  if (!(step.p99Ms <= p99LimitMs)) reasons.push(`p99 ${step.p99Ms.toFixed(1)} ms > ${p99LimitMs}`);
  if (step.loss > 0) reasons.push(`${step.loss} deliveries lost`);
  if (step.rejected > 0) reasons.push(`${step.rejected} publishes refused`);
  if (step.skipped > 0) reasons.push(`${step.skipped} events not sent (publisher full)`);
  if (step.accepted === 0) reasons.push("nothing accepted");
  return reasons;
}

export interface KneeVerdict {
  /** The passing step with the highest delivered/s (undefined: no step passed). */
  knee?: KneeStep;
  /** The first step that failed (undefined: every step passed, the knee is at least the top step). */
  firstFailing?: KneeStep;
}

/** The knee = highest delivered/s of a step with p99 ≤ limit, 0 loss, every due event accepted. */
export function kneeOf(steps: KneeStep[], p99LimitMs = KNEE_P99_LIMIT_MS): KneeVerdict {
  const failingAt = steps.findIndex((step) => stepFailures(step, p99LimitMs).length > 0);
  const passing = failingAt < 0 ? steps : steps.slice(0, failingAt);
  const knee = passing.reduce<KneeStep | undefined>(
    (best, step) => (!best || step.deliveredPerS > best.deliveredPerS ? step : best),
    undefined,
  );
  return { knee, firstFailing: failingAt < 0 ? undefined : steps[failingAt] };
}

/** `--steps 50,100,150`: events/s per step, strictly rising. */
export function parseSteps(text: string): number[] {
  const steps = text.split(",").map((part) => Number(part.trim()));
  if (steps.length === 0 || steps.some((rate) => !Number.isFinite(rate) || rate <= 0))
    throw new Error(`steps must be events/s > 0, comma-separated, got "${text}"`);
  if (steps.some((rate, i) => i > 0 && rate <= steps[i - 1])) throw new Error(`steps must rise, got "${text}"`);
  return steps;
}
