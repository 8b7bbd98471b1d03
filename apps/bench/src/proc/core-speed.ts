import { execFile } from "node:child_process";
import type { Pinning } from "./pinning";

/** A fixed integer loop (~22 ms on an idle core of the reference VM); its time only ever grows with contention. */
const LOOP =
  "let t=process.hrtime.bigint(),x=0;for(let i=0;i<2e7;i++)x=(x+i)|0;process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6+(x&0)))";

/**
 * Milliseconds the fixed loop takes on the server's core right now. On a VM the host can take CPU
 * away without any trace inside the guest (no steal time here, and tick-based CPU accounting then
 * charges the lost time to whichever process ran): a slow loop says "this run's figures are inflated".
 */
export function serverCoreLoopMs(pinning: Pinning): Promise<number> {
  const [command, args] = pinning.server(process.execPath, ["-e", LOOP]);
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout) => {
      if (error) return reject(error);
      resolve(Number(stdout));
    });
  });
}
