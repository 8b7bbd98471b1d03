import type { PresenceNotifier, PresenceTransition } from "../core/ports";

export interface PresenceWebhookOptions {
  laravelApiUrl: string;
  /** The key to send, read at each call: `LARAVEL_API_KEY`, replaced on SIGHUP. */
  apiKey: () => string;
  /** Attempts per transition, the first included. Default 6 (about 30 s of retries). */
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  onResult: (outcome: "sent" | "failed", transition: PresenceTransition, detail?: string) => void;
}

/**
 * Posts each presence transition to `{LARAVEL_API_URL}/api/realtime/presence`, retrying with
 * exponential backoff. The body's `id` lets Laravel drop the repeats a retry can cause.
 */
export function createPresenceWebhook(options: PresenceWebhookOptions): PresenceNotifier {
  const { attempts = 6, baseDelayMs = 500, timeoutMs = 5000, onResult } = options;
  const url = `${options.laravelApiUrl}/api/realtime/presence`;
  const pending = new Set<Promise<void>>();
  const waits = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      waits.set(timer, resolve);
    });

  async function deliver(transition: PresenceTransition): Promise<void> {
    let detail = "";
    for (let attempt = 0; attempt < attempts && !closed; attempt++) {
      if (attempt > 0) await wait(baseDelayMs * 2 ** (attempt - 1));
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-websocket-api-key": options.apiKey() },
          body: JSON.stringify(transition),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        if (response.ok) return onResult("sent", transition);
        detail = `HTTP ${response.status}`;
        if (response.status >= 400 && response.status < 500 && response.status !== 429) break;
      } catch (error) {
        detail = error instanceof Error ? error.message : String(error);
      }
    }
    onResult("failed", transition, detail);
  }

  return {
    notify(transition) {
      const job = deliver(transition).finally(() => pending.delete(job));
      pending.add(job);
    },
    async close() {
      // Let in-flight requests finish; no new retries are started.
      closed = true;
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve();
      }
      waits.clear();
      await Promise.allSettled([...pending]);
    },
  };
}

export const noPresenceWebhook: PresenceNotifier = { notify: () => undefined, close: async () => undefined };
