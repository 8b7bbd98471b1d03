import { nowUs } from "./clock";
import { newHistogram, percentiles, Percentiles } from "./histogram";
import type { Send } from "./ingress-sender";
import { eventData } from "./payload";
import { DueSchedule, evenSchedule } from "./schedule";

interface OpenLoopCommon {
  send: Send;
  channel: string;
  event: string;
  padBytes: number;
  /**
   * At most this many publishes pending (sent or queued in the sender, not yet answered); an event
   * due while the limit is reached is not sent and counted as `skipped`, so a stuck server cannot make
   * the publisher's memory grow without bound. Default: no limit.
   */
  maxInFlight?: number;
  /** Called once per due event with what became of it (knee steps, overload phases tally by index). */
  onOutcome?: (index: number, outcome: SendOutcome) => void;
  /** S5: event i's room and way in (which node), instead of `channel` and `send` for every event. */
  route?: (index: number) => { channel: string; send: Send };
}

export type SendOutcome = "accepted" | "rejected" | "skipped";

export type OpenLoopOptions = OpenLoopCommon &
  (
    | {
        /** Events per second. */
        rate: number;
        count: number;
        /** When event 0 is due (whole µs, shared monotonic clock). */
        t0Us: number;
        /**
         * Events per burst (default 1: evenly spaced). With k > 1 the due times come in groups of k: the k
         * events of burst b are all due at t0 + b·k/R, back to back, so the mean rate stays R.
         */
        burst?: number;
      }
    | {
        /** Explicit due times (phased rates: knee steps, overload). */
        schedule: DueSchedule;
      }
  );

export interface OpenLoopOutcome {
  published: number;
  accepted: number;
  rejected: number;
  /** Due but not sent: `maxInFlight` publishes were already pending. */
  skipped: number;
  /** Worst lateness of an actual send behind its due time (µs): a publisher-side diagnostic. */
  maxSendLagUs: number;
  /**
   * Send → answer of each accepted event (µs). A saturated server answers late; a saturated load
   * generator does not (the server's writes land in kernel buffers): this tells the two apart.
   */
  answer: Percentiles;
}

/**
 * Open-loop publisher: event i is due at t0 + i/R (or, in bursts of k, at t0 + ⌊i/k⌋·k/R; or at the
 * schedule's time) whatever happened to the ones before, and is stamped with that due time. A slow
 * target therefore shows up as latency, never as a lower rate.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopOutcome> {
  const { send, channel, event, padBytes, onOutcome } = options;
  const schedule =
    "schedule" in options
      ? options.schedule
      : evenSchedule(options.t0Us, options.rate, options.count, options.burst ?? 1);
  const { count } = schedule;
  const maxInFlight = options.maxInFlight ?? Infinity;
  const outcome = { published: 0, accepted: 0, rejected: 0, skipped: 0, maxSendLagUs: 0 };
  const answers = newHistogram();
  const inFlight = new Set<Promise<void>>();

  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = (): void => {
      const now = nowUs();
      while (next < count && schedule.dueAt(next) <= now) {
        const index = next++;
        if (inFlight.size >= maxInFlight) {
          outcome.skipped++;
          onOutcome?.(index, "skipped");
          continue;
        }
        const due = schedule.dueAt(index);
        const sentAt = nowUs();
        outcome.maxSendLagUs = Math.max(outcome.maxSendLagUs, sentAt - due);
        const data = eventData({ seq: index, t: due, s: sentAt }, padBytes);
        outcome.published++;
        const to = options.route?.(index) ?? { channel, send };
        const pending = to.send(to.channel, event, data).then((ok) => {
          inFlight.delete(pending);
          onOutcome?.(index, ok ? "accepted" : "rejected");
          if (!ok) return void outcome.rejected++;
          outcome.accepted++;
          answers.recordValue(Math.max(1, Math.round(nowUs() - sentAt)));
        });
        inFlight.add(pending);
      }
      if (next >= count) return resolve();
      // Timers fire ≥ 1 ms late at worst; the lateness is in the latency, as it should be.
      setTimeout(tick, Math.max(0, (schedule.dueAt(next) - nowUs()) / 1000));
    };
    tick();
  });
  await Promise.all(inFlight);
  return { ...outcome, answer: percentiles(answers) };
}
