import { nowUs } from "./clock";
import { encodeHistogram, newHistogram } from "./histogram";
import { openWireClient } from "./wire-client";
import type { ChurnReport, ClientSpec, ToWorker } from "./worker-messages";

/** How long a churn client may take to subscribe before it counts as failed (ms). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * S6's churn loop (runs in a load worker): connection i is due at startUs + i/rate, whatever happened
 * before (open loop), and is closed as soon as its subscribe is acknowledged. Handshake latency runs
 * from the due time to the ack, so a server that falls behind shows it as latency.
 */
export async function runChurn(
  message: Extract<ToWorker, { type: "churn" }>,
  tokenFor: (spec: ClientSpec, userId: number) => string | undefined,
): Promise<ChurnReport> {
  const handshake = newHistogram();
  const count = Math.max(0, Math.floor(((message.untilUs - message.startUs) / 1e6) * message.rate));
  let started = 0;
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const pending: Promise<void>[] = [];
  const openOne = (index: number, dueUs: number): Promise<void> =>
    new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean, reason?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (ok) {
          completed++;
          handshake.recordValue(Math.max(1, Math.round(nowUs() - dueUs)));
        } else {
          failed++;
          firstError ??= reason;
        }
        socket.close();
        resolve();
      };
      const timer = setTimeout(() => finish(false, "handshake timeout"), HANDSHAKE_TIMEOUT_MS);
      const socket = openWireClient(message.spec, tokenFor(message.spec, message.firstUserId + index), {
        onReady: () => finish(true),
        onFail: (reason) => finish(false, reason),
        onEvent: () => undefined,
        onClose: () => undefined,
      });
    });
  for (let i = 0; i < count; i++) {
    const dueUs = message.startUs + (i * 1e6) / message.rate;
    const waitMs = (dueUs - nowUs()) / 1000;
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    started++;
    pending.push(openOne(i, dueUs));
  }
  await Promise.all(pending);
  return {
    type: "churned",
    started,
    completed,
    failed,
    firstError,
    handshake: encodeHistogram(handshake),
  };
}
