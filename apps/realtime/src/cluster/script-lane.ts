/**
 * Keeps script calls in issue order when a server answers with an error that a repair mends: NOSCRIPT
 * (it lost its script cache: a flush, a restart, a replica promoted before it was loaded), or MOVED
 * on a call ioredis does not redirect itself (a script and WAIT in one pipeline, after a failover).
 *
 * The trap: a call that fails so and is retried goes out again later than the calls issued after
 * it, and those that reach the server once it is mended (the script back, the slot map followed)
 * run first: two publishes of one sender on one channel would take offsets in the wrong order. So
 * on the first such error the lane closes: the repair runs, calls issued from then on wait, and once
 * the repair is done and every call that was already on its way has answered, every call that
 * failed so or waited is sent again, in the order it was issued, in one go.
 *
 * What it cannot mend: a call that was already on its way and found the script (someone else loaded
 * it between the first NOSCRIPT and it) has run. docs/SCALING.md says when that can happen.
 */
export class ScriptLane {
  private nextSeq = 0;
  private inFlight = 0;
  private closed = false;
  private repairing = false;
  private waiting: LaneCall[] = [];

  /** `repair` mends what an error it knows says (undefined: not an error it knows; the call fails). */
  constructor(private readonly repair: (error: unknown) => (() => Promise<void>) | undefined) {}

  /** Runs `send` now, or after the lane opens again; resends it once `repair` mended what it failed on. */
  run<T>(send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: LaneCall = {
        seq: this.nextSeq++,
        repairs: 0,
        send,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (this.closed) this.waiting.push(call);
      else this.start(call);
    });
  }

  private start(call: LaneCall): void {
    this.inFlight++;
    call.send().then(
      (value) => {
        this.inFlight--;
        call.resolve(value);
        this.openIfSettled();
      },
      (error: unknown) => {
        this.inFlight--;
        // A repair that did not help twice is not a lost cache or a moved slot but a server that
        // refuses the load, or a slot without a master: the caller fails (503) and retries.
        const mend = call.repairs < MAX_REPAIRS_PER_CALL ? this.repair(error) : undefined;
        if (mend) {
          call.repairs++;
          this.waiting.push(call);
          this.close(mend);
        } else {
          call.reject(error);
        }
        this.openIfSettled();
      },
    );
  }

  /** Only the first error's repair runs: the calls resent after it that still fail bring theirs. */
  private close(mend: () => Promise<void>): void {
    if (this.closed) return;
    this.closed = true;
    this.repairing = true;
    // A failed repair opens the lane too: the resent calls fail again and fail for good after their last try.
    void mend()
      .catch(() => undefined)
      .then(() => {
        this.repairing = false;
        this.openIfSettled();
      });
  }

  /** Sends every waiting call in issue order, synchronously: nothing issued meanwhile can slip in between. */
  private openIfSettled(): void {
    if (!this.closed || this.repairing || this.inFlight > 0) return;
    this.closed = false;
    const calls = this.waiting.sort((a, b) => a.seq - b.seq);
    this.waiting = [];
    for (const call of calls) this.start(call);
  }
}

interface LaneCall {
  seq: number;
  repairs: number;
  send: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const MAX_REPAIRS_PER_CALL = 3;
