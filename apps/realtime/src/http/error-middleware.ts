import type { Middleware } from "koa";
import { RealtimeError } from "../core/realtime-error";
import { errorDetail, Logger } from "../observability/logger";

/**
 * Translates every error into `{"success":false,"error":"<code>",...}` once, for the whole app.
 * Unknown errors become a 500 `internal`, logged with their cause; no stack reaches the client.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new RealtimeError("not_found", "no such route");
    } catch (error) {
      const known = toRealtimeError(error);
      if (!known) logger.error("request failed", { request_id: ctx.state.requestId, ...errorDetail(error) });
      const answer = known ?? new RealtimeError("internal", "internal error");
      ctx.status = answer.status;
      ctx.body = {
        success: false,
        error: answer.code,
        message: answer.message,
        ...(answer.details ? { details: answer.details } : {}),
      };
      if (answer.retryAfterS !== undefined) ctx.set("Retry-After", String(answer.retryAfterS));
      if (!ctx.req.complete) ctx.set("Connection", "close");
    }
  };
}

function toRealtimeError(error: unknown): RealtimeError | undefined {
  if (error instanceof RealtimeError) return error;
  // @koa/router's allowedMethods throws http-errors with a status.
  const status = (error as { status?: unknown })?.status;
  if (status === 405) return new RealtimeError("method_not_allowed", "method not allowed");
  if (status === 501) return new RealtimeError("method_not_allowed", "method not implemented");
  return undefined;
}
