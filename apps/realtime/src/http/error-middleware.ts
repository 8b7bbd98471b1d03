import type { ValidationDetail } from "@mechamap/protocol";
import type { Middleware } from "koa";
import { RealtimeError } from "../core/realtime-error";
import { errorDetail, Logger } from "../observability/logger";

/** What a failed request answers: `{"success":false,"error":"<code>",...}`. */
export interface ErrorAnswer {
  status: number;
  body: { success: false; error: string; message: string; details?: ValidationDetail[] };
  retryAfterS?: number;
}

/**
 * Translates an error into its answer, for the Koa middleware below and the broadcast lane alike.
 * Unknown errors become a 500 `internal`, logged with their cause; no stack reaches the client.
 */
export function errorAnswer(error: unknown, logger: Logger, requestId: string): ErrorAnswer {
  const known = toRealtimeError(error);
  if (!known) logger.error("request failed", { request_id: requestId, ...errorDetail(error) });
  const answer = known ?? new RealtimeError("internal", "internal error");
  return {
    status: answer.status,
    body: {
      success: false,
      error: answer.code,
      message: answer.message,
      ...(answer.details ? { details: answer.details } : {}),
    },
    ...(answer.retryAfterS !== undefined ? { retryAfterS: answer.retryAfterS } : {}),
  };
}

/** Every error of the Koa app answered once, by `errorAnswer`. */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new RealtimeError("not_found", "no such route");
    } catch (error) {
      const answer = errorAnswer(error, logger, ctx.state.requestId as string);
      ctx.status = answer.status;
      ctx.body = answer.body;
      if (answer.retryAfterS !== undefined) ctx.set("Retry-After", String(answer.retryAfterS));
      // Part of the body is still unread: the connection cannot carry another request.
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
