import type { Ack, AckErrorCode } from "@mechamap/protocol";
import { errorDetail } from "../observability/logger";
import { AckError, SocketContext } from "./context";
import type { RealtimeSocket } from "./types";
import { subscribe } from "./handlers/subscribe";
import { unsubscribe } from "./handlers/unsubscribe";
import { presenceWatch } from "./handlers/presence-watch";
import { threadViewers } from "./handlers/thread-viewers";
import { authRefresh } from "./handlers/auth-refresh";

type Handler = (context: SocketContext, socket: RealtimeSocket, request: unknown) => Promise<object>;

const HANDLERS: Record<string, Handler> = {
  subscribe,
  unsubscribe,
  "presence:watch": presenceWatch,
  "thread:viewers": threadViewers,
  "auth:refresh": authRefresh,
};

/** A token bucket per socket: `rate` events a second, bursts of twice that. */
function createEventBudget(rate: number): () => boolean {
  let tokens = rate * 2;
  let last = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(rate * 2, tokens + ((now - last) / 1000) * rate);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/**
 * Wires every client event: rate limit, then the handler, then exactly one ack.
 * A handler's refusal is an `AckError`; anything else is logged and answered `internal`.
 */
export function registerHandlers(context: SocketContext, socket: RealtimeSocket, eventRate: number): void {
  const withinBudget = createEventBudget(eventRate);
  for (const [event, handler] of Object.entries(HANDLERS)) {
    socket.on(event as "subscribe", (request: unknown, maybeAck?: unknown) => {
      const ack = typeof maybeAck === "function" ? (maybeAck as (answer: Ack) => void) : () => undefined;
      if (!withinBudget()) {
        context.metrics.rateLimited.inc({ scope: "socket" });
        return ack({ ok: false, error: "rate_limited" });
      }
      handler(context, socket, request).then(
        (result) => ack({ ok: true, ...result }),
        (error: unknown) => {
          let code: AckErrorCode = "internal";
          if (error instanceof AckError) code = error.code;
          else context.logger.error("client event failed", { event, ...errorDetail(error) });
          ack({ ok: false, error: code });
        },
      );
    });
  }
}
