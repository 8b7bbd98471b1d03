import { request } from "node:http";

export interface ProbeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One plain HTTP request on its own connection (agent: false): nothing is pooled, so no socket
 * outlives the probe and keeps a test process alive.
 */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.setTimeout(options.timeoutMs ?? 2000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * Polls `check` until it returns true. Used only where no event exists to wait for (a node says
 * "listening" before its Redis connections are up; nginx says nothing at all).
 */
export async function pollUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 50, abort }: { timeoutMs: number; intervalMs?: number; abort?: () => Error | null },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const aborted = abort?.();
    if (aborted) throw aborted;
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** GET `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  return (await httpRequest(url, { timeoutMs: 1000 })).status === 200;
}
