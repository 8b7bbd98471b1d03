import type { RealtimeSocket } from "./types";

/** Matches the verifier's clock tolerance: a token accepted just past `exp` still gets this long. */
const CLOCK_TOLERANCE_MS = 30_000;
/** setTimeout's longest delay; a later bucket is looked at again when the timer fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * One timer for every socket of the process rather than one `setTimeout` each (a Timeout, its
 * closure and a timer list per socket: ~300 B of heap per connection). Sockets wait in buckets, one
 * per second of expiry (JWT `exp` is in whole seconds); the timer is set for the earliest bucket.
 */
const buckets = new Map<number, Set<RealtimeSocket>>();
/** Each waiting socket's bucket, to move it on `auth:refresh` and drop it on disconnect. */
const bucketOf = new WeakMap<RealtimeSocket, number>();
let timer: NodeJS.Timeout | undefined;
let timerBucket = Infinity;

/**
 * Disconnects the socket when its token expires (after `token_expired`), unless refreshed first:
 * at `expiresAt`, or, for a token accepted within the clock tolerance past it, tolerance later.
 * Called again after `auth:refresh` changed `socket.data.expiresAt`.
 */
export function scheduleExpiry(socket: RealtimeSocket): void {
  cancelExpiry(socket);
  const { expiresAt } = socket.data;
  if (expiresAt === null) return;
  const dueAt = expiresAt > Date.now() ? expiresAt : expiresAt + CLOCK_TOLERANCE_MS;
  const bucket = Math.ceil(dueAt / 1000);
  let sockets = buckets.get(bucket);
  if (!sockets) buckets.set(bucket, (sockets = new Set()));
  sockets.add(socket);
  bucketOf.set(socket, bucket);
  if (bucket < timerBucket) arm(bucket);
}

export function cancelExpiry(socket: RealtimeSocket): void {
  const bucket = bucketOf.get(socket);
  if (bucket === undefined) return;
  bucketOf.delete(socket);
  const sockets = buckets.get(bucket);
  sockets?.delete(socket);
  // An emptied bucket goes; the timer may still fire for it, and then finds nothing to do.
  if (sockets?.size === 0) buckets.delete(bucket);
}

/** Sockets waiting for their expiry (for tests and diagnostics). */
export function pendingExpiries(): number {
  let count = 0;
  for (const sockets of buckets.values()) count += sockets.size;
  return count;
}

function arm(bucket: number): void {
  clearTimeout(timer);
  timerBucket = bucket;
  timer = setTimeout(fire, Math.max(0, Math.min(bucket * 1000 - Date.now(), MAX_DELAY_MS)));
  timer.unref();
}

function fire(): void {
  timer = undefined;
  timerBucket = Infinity;
  const now = Date.now();
  const due: RealtimeSocket[] = [];
  let next = Infinity;
  for (const [bucket, sockets] of buckets) {
    if (bucket * 1000 > now) {
      next = Math.min(next, bucket);
      continue;
    }
    buckets.delete(bucket);
    for (const socket of sockets) {
      bucketOf.delete(socket);
      due.push(socket);
    }
  }
  if (next !== Infinity) arm(next);
  for (const socket of due) expire(socket);
}

function expire(socket: RealtimeSocket): void {
  if (socket.disconnected) return;
  socket.emit("token_expired", { code: "token_expired" });
  socket.disconnect(true);
}
