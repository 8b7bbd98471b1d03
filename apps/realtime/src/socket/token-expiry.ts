import type { Cancel, Clock, Scheduler } from "../core/ports";
import type { RealtimeSocket } from "./types";

/** Matches the verifier's clock tolerance: a token accepted just past `exp` still gets this long. */
const CLOCK_TOLERANCE_MS = 30_000;
/** setTimeout's longest delay; a later bucket is looked at again when the timer fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Disconnects each socket when its token expires (after `token_expired`), unless refreshed first.
 *
 * One timer for every socket of the node rather than one `setTimeout` each (a Timeout, its closure
 * and a timer list per socket: ~300 B of heap per connection). Sockets wait in buckets, one per
 * second of expiry (JWT `exp` is in whole seconds); the timer is set for the earliest bucket.
 */
export class TokenExpiry {
  private readonly buckets = new Map<number, Set<RealtimeSocket>>();
  /** Each waiting socket's bucket, to move it on `auth:refresh` and drop it on disconnect. */
  private readonly bucketOf = new WeakMap<RealtimeSocket, number>();
  private cancelTimer: Cancel = () => undefined;
  private timerBucket = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {}

  /**
   * At `expiresAt`, or, for a token accepted within the clock tolerance past it, tolerance later.
   * Called again after `auth:refresh` changed `socket.data.expiresAt`.
   */
  schedule(socket: RealtimeSocket): void {
    this.cancel(socket);
    const { expiresAt } = socket.data;
    if (expiresAt === null) return;
    const dueAt = expiresAt > this.clock.now() ? expiresAt : expiresAt + CLOCK_TOLERANCE_MS;
    const bucket = Math.ceil(dueAt / 1000);
    let sockets = this.buckets.get(bucket);
    if (!sockets) this.buckets.set(bucket, (sockets = new Set()));
    sockets.add(socket);
    this.bucketOf.set(socket, bucket);
    if (bucket < this.timerBucket) this.arm(bucket);
  }

  cancel(socket: RealtimeSocket): void {
    const bucket = this.bucketOf.get(socket);
    if (bucket === undefined) return;
    this.bucketOf.delete(socket);
    const sockets = this.buckets.get(bucket);
    sockets?.delete(socket);
    // An emptied bucket goes; the timer may still fire for it, and then finds nothing to do.
    if (sockets?.size === 0) this.buckets.delete(bucket);
  }

  /** Sockets waiting for their expiry (for tests and diagnostics). */
  pending(): number {
    let count = 0;
    for (const sockets of this.buckets.values()) count += sockets.size;
    return count;
  }

  stop(): void {
    this.cancelTimer();
    this.timerBucket = Infinity;
  }

  private arm(bucket: number): void {
    this.cancelTimer();
    this.timerBucket = bucket;
    const delay = Math.max(0, Math.min(bucket * 1000 - this.clock.now(), MAX_DELAY_MS));
    this.cancelTimer = this.scheduler.after(delay, () => this.fire());
  }

  private fire(): void {
    this.cancelTimer = () => undefined;
    this.timerBucket = Infinity;
    const now = this.clock.now();
    const due: RealtimeSocket[] = [];
    let next = Infinity;
    for (const [bucket, sockets] of this.buckets) {
      if (bucket * 1000 > now) {
        next = Math.min(next, bucket);
        continue;
      }
      this.buckets.delete(bucket);
      for (const socket of sockets) {
        this.bucketOf.delete(socket);
        due.push(socket);
      }
    }
    if (next !== Infinity) this.arm(next);
    for (const socket of due) expire(socket);
  }
}

function expire(socket: RealtimeSocket): void {
  if (socket.disconnected) return;
  socket.emit("token_expired", { code: "token_expired" });
  socket.disconnect(true);
}
