import type { Middleware } from "koa";

/** CORS for the API: the configured origins (or any, with `*`), preflights answered here. */
export function cors(origins: string[]): Middleware {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return async (ctx, next) => {
    const origin = ctx.get("Origin");
    if (origin && (any || allowed.has(origin))) {
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
