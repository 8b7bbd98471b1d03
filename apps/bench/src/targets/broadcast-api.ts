import type { Ingress } from "./target";
import { BENCH_API_KEY } from "./secrets";

/** `POST /api/broadcast` as ours defines it (SPEC §3); the bare and raw-ws targets accept the same. */
export function broadcastApiIngress(port: number): Ingress {
  return {
    kind: "http",
    url: `http://127.0.0.1:${port}/api/broadcast`,
    headers: { "Content-Type": "application/json", "X-WebSocket-API-Key": BENCH_API_KEY },
    body: (channel, event, data) => JSON.stringify({ event, to: "channel", channel, data }),
  };
}
