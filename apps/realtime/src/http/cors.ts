import type { Middleware } from "koa";
import type { OriginAllowlist } from "../auth/origin-allowlist";

/** CORS for the API: the configured origins (or any, with `*`), preflights answered here. */
export function cors(allowed: OriginAllowlist): Middleware {
  return async (ctx, next) => {
    const origin = ctx.get("Origin");
    if (origin && allowed(origin)) {
      ctx.set("Access-Control-Allow-Origin", origin);
      ctx.set("Vary", "Origin");
      if (ctx.method === "OPTIONS") {
        ctx.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        ctx.set(
          "Access-Control-Allow-Headers",
          "Content-Type, X-WebSocket-API-Key, Authorization, Idempotency-Key, X-Request-Id",
        );
        ctx.set("Access-Control-Max-Age", "600");
        ctx.status = 204;
        return;
      }
    }
    await next();
  };
}
