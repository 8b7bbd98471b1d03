import { sleep } from "../targets/http-get";
import { machineMeter } from "./proc-stats";

/**
 * Waits (up to `maxWaitMs`) for a second in which the machine is nearly idle, so a run does not start
 * on top of somebody else's test suite. Returns the busy % (of one core) of the last second seen.
 */
export async function waitForQuietMachine(maxWaitMs: number, busyLimitPct = 25): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const meter = machineMeter();
    meter.start();
    await sleep(1000);
    const busy = meter.read().percent;
    if (busy <= busyLimitPct || Date.now() >= deadline) return busy;
  }
}
