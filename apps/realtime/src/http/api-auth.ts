import type { IncomingHttpHeaders } from "node:http";
import type { Middleware } from "koa";
import type { ApiKeyVerifier } from "../auth/api-key-verifier";
import type { RateLimiter } from "../core/ports";
import { RealtimeError, unavailableOnFailure } from "../core/realtime-error";
import type { RealtimeMetrics } from "../observability/metrics";

export interface ApiAuthOptions {
  keys: ApiKeyVerifier;
  rateLimiter: RateLimiter;
  ratePerSecond: number;
  metrics: RealtimeMetrics;
}

/** Resolves when the request may go on; throws `unauthorized` or `rate_limited` otherwise. */
export type ApiGate = (headers: IncomingHttpHeaders) => Promise<void>;

/**
 * `X-WebSocket-API-Key` (or `Authorization: Bearer`) on every `/api/*` call, then the key's rate
 * limit: for the Koa middleware below and the broadcast lane alike.
 */
export function apiGate(options: ApiAuthOptions): ApiGate {
  return async (headers) => {
    const presented = headers["x-websocket-api-key"] || /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "")?.[1];
    const keyName = options.keys.identify(typeof presented === "string" ? presented : undefined);
    if (keyName === undefined) {
      options.metrics.authFailures.inc({ kind: "api_key" });
      throw new RealtimeError("unauthorized", "missing or wrong API key");
    }
    const verdict = await unavailableOnFailure(options.rateLimiter.hit(`api:${keyName}`, options.ratePerSecond));
    if (!verdict.allowed) {
      options.metrics.rateLimited.inc({ scope: "api" });
      throw new RealtimeError("rate_limited", "too many requests", undefined, verdict.retryAfterS);
    }
  };
}

export function apiAuth(gate: ApiGate): Middleware {
  return async (ctx, next) => {
    await gate(ctx.req.headers);
    await next();
  };
}
