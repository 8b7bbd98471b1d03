import { nowUs } from "./clock";
import { newHistogram, percentiles, Percentiles } from "./histogram";
import type { Send } from "./ingress-sender";
import { eventData } from "./payload";

export interface OpenLoopOptions {
  send: Send;
  channel: string;
  event: string;
  /** Events per second. */
  rate: number;
  count: number;
  /** When event 0 is due (whole µs, shared monotonic clock). */
  t0Us: number;
  padBytes: number;
  /**
   * Events per burst (default 1: evenly spaced). With k > 1 the due times come in groups of k: the k
   * events of burst b are all due at t0 + b·k/R, back to back, so the mean rate stays R.
   */
  burst?: number;
}

export interface OpenLoopOutcome {
  published: number;
  accepted: number;
  rejected: number;
  /** Worst lateness of an actual send behind its due time (µs): a publisher-side diagnostic. */
  maxSendLagUs: number;
  /**
   * Send → answer of each accepted event (µs). A saturated server answers late; a saturated load
   * generator does not (the server's writes land in kernel buffers): this tells the two apart.
   */
  answer: Percentiles;
}

/**
 * Open-loop publisher: event i is due at t0 + i/R (or, in bursts of k, at t0 + ⌊i/k⌋·k/R) whatever
 * happened to the ones before, and is stamped with that due time. A slow target therefore shows up as latency, never as a lower rate.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopOutcome> {
  const { send, channel, event, rate, count, t0Us, padBytes } = options;
  const burst = Math.max(1, Math.floor(options.burst ?? 1));
  const outcome = { published: 0, accepted: 0, rejected: 0, maxSendLagUs: 0 };
  const answers = newHistogram();
  const inFlight: Array<Promise<void>> = [];
  // Whole µs, so that a stamp and the measured window compare exactly.
  const dueAt = (i: number): number => t0Us + Math.floor((Math.floor(i / burst) * burst * 1e6) / rate);

  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = (): void => {
      const now = nowUs();
      while (next < count && dueAt(next) <= now) {
        const due = dueAt(next);
        const sentAt = nowUs();
        outcome.maxSendLagUs = Math.max(outcome.maxSendLagUs, sentAt - due);
        const data = eventData({ seq: next, t: due, s: sentAt }, padBytes);
        outcome.published++;
        inFlight.push(
          send(channel, event, data).then((ok) => {
            if (!ok) return void outcome.rejected++;
            outcome.accepted++;
            answers.recordValue(Math.max(1, Math.round(nowUs() - sentAt)));
          }),
        );
        next++;
      }
      if (next >= count) return resolve();
      // Timers fire ≥ 1 ms late at worst; the lateness is in the latency, as it should be.
      setTimeout(tick, Math.max(0, (dueAt(next) - nowUs()) / 1000));
    };
    tick();
  });
  await Promise.all(inFlight);
  return { ...outcome, answer: percentiles(answers) };
}
