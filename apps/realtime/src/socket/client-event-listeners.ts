import type { Ack, AckErrorCode } from "@mechamap/protocol";
import type { Clock } from "../core/ports";
import { errorDetail } from "../observability/logger";
import { AckError, SocketContext } from "./context";
import type { RealtimeSocket } from "./types";
import { subscribe } from "./handlers/subscribe";
import { unsubscribe } from "./handlers/unsubscribe";
import { presenceWatch } from "./handlers/presence-watch";
import { threadViewers } from "./handlers/thread-viewers";
import { authRefresh } from "./handlers/auth-refresh";
import { echoSubscribe } from "./echo/echo-subscribe";
import { echoUnsubscribe } from "./echo/echo-unsubscribe";
import { clientEvent } from "./echo/client-event";

type Handler = (context: SocketContext, socket: RealtimeSocket, request: unknown) => Promise<object>;
type Listener = (this: RealtimeSocket, request: unknown, maybeAck?: unknown) => void;

const HANDLERS: Record<string, Handler> = {
  subscribe,
  unsubscribe,
  "presence:watch": presenceWatch,
  "thread:viewers": threadViewers,
  "auth:refresh": authRefresh,
};

/** A token bucket per socket, kept in `socket.data`: `rate` events a second, bursts of twice that. */
function withinBudget(socket: RealtimeSocket, rate: number, clock: Clock): boolean {
  const now = clock.now();
  const budget = (socket.data.eventBudget ??= { tokens: rate * 2, at: now });
  budget.tokens = Math.min(rate * 2, budget.tokens + ((now - budget.at) / 1000) * rate);
  budget.at = now;
  if (budget.tokens < 1) return false;
  budget.tokens -= 1;
  return true;
}

/**
 * One listener per client event for the whole server (Socket.IO calls it with the socket as `this`),
 * rather than closures per socket: memory per connection is a feature. Each listener applies the
 * rate limit, runs the handler and sends exactly one ack; a handler's refusal is an `AckError`,
 * anything else is logged and answered `internal`.
 */
export function createClientEventListeners(context: SocketContext, eventRate: number): Array<[string, Listener]> {
  const listeners = Object.entries(HANDLERS).map(([event, handler]): [string, Listener] => {
    const listener: Listener = function (request, maybeAck) {
      if (context.echo && (event === "subscribe" || event === "unsubscribe") && isEchoRequest(request)) {
        return onEchoRequest(context, this, event, request, eventRate);
      }
      const ack = typeof maybeAck === "function" ? (maybeAck as (answer: Ack) => void) : () => undefined;
      if (!withinBudget(this, eventRate, context.clock)) {
        context.metrics.rateLimited.inc({ scope: "socket" });
        return ack({ ok: false, error: "rate_limited" });
      }
      handler(context, this, request).then(
        (result) => ack({ ok: true, ...result }),
        (error: unknown) => {
          let code: AckErrorCode = "internal";
          if (error instanceof AckError) code = error.code;
          else context.logger.error("client event failed", { event, ...errorDetail(error) });
          ack({ ok: false, error: code });
        },
      );
    };
    return [event, listener];
  });
  if (context.echo) listeners.push(["client event", createWhisperListener(context, eventRate)]);
  return listeners;
}

/** Echo sends `subscribe` / `unsubscribe` with an `auth` key (always) and no ack: that marks its dialect. */
function isEchoRequest(request: unknown): request is { channel?: unknown; auth?: unknown } {
  return typeof request === "object" && request !== null && "auth" in request;
}

/**
 * From its first Echo-shaped request on, a socket gets broadcasts as Echo expects them, `(channel,
 * data)` (socket-io-local-sockets.ts). Refusals are `subscription_error (channel, status)` events, not acks.
 */
function onEchoRequest(
  context: SocketContext,
  socket: RealtimeSocket,
  event: "subscribe" | "unsubscribe",
  request: { channel?: unknown; auth?: unknown },
  eventRate: number,
): void {
  const echo = context.echo!;
  socket.data.echo = true;
  if (!withinBudget(socket, eventRate, context.clock)) {
    context.metrics.rateLimited.inc({ scope: "socket" });
    if (event === "subscribe" && typeof request.channel === "string") {
      socket.emit("subscription_error", request.channel, 429);
    }
    return;
  }
  const done =
    event === "subscribe" ? echoSubscribe(context, echo, socket, request) : echoUnsubscribe(echo, socket, request);
  done.catch((error: unknown) => context.logger.error("echo client event failed", { event, ...errorDetail(error) }));
}

/** `client event` (Echo's whisper): rate-limited like every client event, then relayed cluster-wide. */
function createWhisperListener(context: SocketContext, eventRate: number): Listener {
  const echo = context.echo!;
  return function (request) {
    if (!withinBudget(this, eventRate, context.clock)) return void context.metrics.rateLimited.inc({ scope: "socket" });
    clientEvent(echo, this, request).catch((error: unknown) =>
      context.logger.error("whisper failed", errorDetail(error)),
    );
  };
}
