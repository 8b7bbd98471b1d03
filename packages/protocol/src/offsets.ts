/**
 * Offsets are `<epoch>-<sequence>` (the shape of Redis stream ids): increasing per channel,
 * compared part by part. A new epoch (a restarted embedded node) sorts after every old offset.
 * Shared by the node (replays) and the browser client (which keeps the newest offset it handed over).
 */
export function parseOffset(offset: string): [number, number] | undefined {
  const match = /^(\d{1,16})-(\d{1,16})$/.exec(offset);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareOffsets(a: string, b: string): number {
  const [ae, as] = parseOffset(a) ?? [0, 0];
  const [be, bs] = parseOffset(b) ?? [0, 0];
  return ae - be || as - bs;
}
