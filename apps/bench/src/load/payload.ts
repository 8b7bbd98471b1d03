/**
 * The event body every target carries. The stamps travel inside it: `t` is when the event was due
 * (latency is measured from there, so a stalled publisher cannot hide a stall: coordinated
 * omission), `s` when it was actually sent (a diagnostic).
 */
export interface EventStamp {
  seq: number;
  /** Scheduled time, µs on the shared monotonic clock. */
  t: number;
  /** Actual send time, µs. */
  s: number;
}

/** Padding to make the Socket.IO packet of ours ~190 bytes, the size PERFORMANCE.md measured with. */
export const DEFAULT_PAD_BYTES = 12;

export function eventData(stamp: EventStamp, padBytes: number): object {
  return { seq: stamp.seq, t: Math.round(stamp.t), s: Math.round(stamp.s), pad: "x".repeat(padBytes) };
}

/**
 * Reads the stamp out of a received packet without JSON.parse (the clients must stay cheap):
 * the keys are unique in every target's envelope (`"ts":` of meta does not match `"t":`).
 */
export function readStamp(packet: string): EventStamp | undefined {
  const seq = intAfter(packet, '"seq":');
  const t = intAfter(packet, '"t":');
  const s = intAfter(packet, '"s":');
  return seq < 0 || t < 0 || s < 0 ? undefined : { seq, t, s };
}

function intAfter(text: string, key: string): number {
  const at = text.indexOf(key);
  if (at < 0) return -1;
  let value = 0;
  let digits = 0;
  for (let i = at + key.length; i < text.length; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) break;
    value = value * 10 + code;
    digits++;
  }
  return digits > 0 ? value : -1;
}
