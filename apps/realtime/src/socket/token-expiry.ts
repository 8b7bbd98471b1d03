import type { RealtimeSocket } from "./types";

const timers = new WeakMap<RealtimeSocket, NodeJS.Timeout>();
/** setTimeout's longest delay; a later expiry is checked again when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** Matches the verifier's clock tolerance: a token accepted just past `exp` still gets this long. */
const CLOCK_TOLERANCE_MS = 30_000;

/** Disconnects the socket when its token expires (after `token_expired`), unless refreshed first. */
export function scheduleExpiry(socket: RealtimeSocket): void {
  clearTimeout(timers.get(socket));
  const { expiresAt } = socket.data;
  if (expiresAt === null) return;
  const untilExpiry = expiresAt - Date.now();
  const delay = untilExpiry > 0 ? untilExpiry : untilExpiry + CLOCK_TOLERANCE_MS;
  const timer = setTimeout(
    () => {
      if (socket.data.expiresAt !== expiresAt) return;
      if (delay === MAX_DELAY_MS) return scheduleExpiry(socket);
      socket.emit("token_expired", { code: "token_expired" });
      socket.disconnect(true);
    },
    Math.max(0, Math.min(delay, MAX_DELAY_MS)),
  );
  timer.unref();
  timers.set(socket, timer);
}

export function cancelExpiry(socket: RealtimeSocket): void {
  clearTimeout(timers.get(socket));
  timers.delete(socket);
}
