/**
 * Keeps script calls in issue order when a server answers NOSCRIPT (it lost its script cache:
 * a flush, a restart, a replica promoted before it was loaded).
 *
 * The trap: a call that meets NOSCRIPT and is retried goes out again later than the calls issued
 * after it, and those that reach the server once the script is back (loaded by the retry, or by
 * anyone) run first: two publishes of one sender on one channel would take offsets in the wrong
 * order. So on the first NOSCRIPT the lane closes: the scripts are loaded again, calls issued from
 * then on wait, and once the load is done and every call that was already on its way has answered,
 * every call that met NOSCRIPT or waited is sent again, in the order it was issued, in one go.
 *
 * What it cannot mend: a call that was already on its way and found the script (someone else loaded
 * it between the first NOSCRIPT and it) has run. docs/SCALING.md says when that can happen.
 */
export class ScriptLane {
  private nextSeq = 0;
  private inFlight = 0;
  private closed = false;
  private loading = false;
  private waiting: LaneCall[] = [];

  /** `load` puts every script back on the servers this lane's calls go to. */
  constructor(private readonly load: () => Promise<void>) {}

  /** Runs `send` now, or after the lane opens again; resends it once the scripts are back on NOSCRIPT. */
  run<T>(send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: LaneCall = {
        seq: this.nextSeq++,
        loads: 0,
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
        // Twice in a row is not a lost cache but a server that refuses the load: the caller fails (503).
        if (isNoScript(error) && call.loads < MAX_LOADS_PER_CALL) {
          call.loads++;
          this.waiting.push(call);
          this.close();
        } else {
          call.reject(error);
        }
        this.openIfSettled();
      },
    );
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loading = true;
    // A failed load opens the lane too: the resent calls meet NOSCRIPT again and fail after their last try.
    void this.load()
      .catch(() => undefined)
      .then(() => {
        this.loading = false;
        this.openIfSettled();
      });
  }

  /** Sends every waiting call in issue order, synchronously: nothing issued meanwhile can slip in between. */
  private openIfSettled(): void {
    if (!this.closed || this.loading || this.inFlight > 0) return;
    this.closed = false;
    const calls = this.waiting.sort((a, b) => a.seq - b.seq);
    this.waiting = [];
    for (const call of calls) this.start(call);
  }
}

interface LaneCall {
  seq: number;
  loads: number;
  send: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const MAX_LOADS_PER_CALL = 2;

export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}
