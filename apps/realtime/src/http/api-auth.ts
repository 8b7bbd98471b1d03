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

/** `X-WebSocket-API-Key` (or `Authorization: Bearer`) on every `/api/*` call, then the key's rate limit. */
export function apiAuth(options: ApiAuthOptions): Middleware {
  return async (ctx, next) => {
    const presented = ctx.get("X-WebSocket-API-Key") || /^Bearer\s+(.+)$/i.exec(ctx.get("Authorization"))?.[1];
    const keyName = options.keys.identify(presented);
    if (keyName === undefined) {
      options.metrics.authFailures.inc({ kind: "api_key" });
      throw new RealtimeError("unauthorized", "missing or wrong API key");
    }
    const verdict = await unavailableOnFailure(options.rateLimiter.hit(`api:${keyName}`, options.ratePerSecond));
    if (!verdict.allowed) {
      options.metrics.rateLimited.inc({ scope: "api" });
      throw new RealtimeError("rate_limited", "too many requests", undefined, verdict.retryAfterS);
    }
    await next();
  };
}
