import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "../observability/logger";
import type { RealtimeMetrics } from "../observability/metrics";

const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Request id (from `X-Request-Id` when sane), one log line per API request, and the request
 * metrics labelled by route template (never the raw path, which holds ids).
 */
export function requestContext(logger: Logger, metrics: RealtimeMetrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const given = ctx.get("X-Request-Id");
    const requestId = REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set("X-Request-Id", requestId);
    try {
      await next();
    } finally {
      const route = routeTemplate(ctx.matched as RouteLayer[] | undefined);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.apiRequests.inc({ route, method: ctx.method, status: String(ctx.status) });
      metrics.apiDuration.observe({ route, method: ctx.method }, seconds);
      // Accepted API calls are the hot path: logged at debug only.
      const level = ctx.status >= 500 ? "error" : ctx.status >= 400 ? "info" : "debug";
      if (logger.isLevelEnabled(level)) {
        logger.log(level, "http request", {
          request_id: requestId,
          method: ctx.method,
          route,
          status: ctx.status,
          ms: Math.round(seconds * 1e6) / 1e3,
        });
      }
    }
  };
}

interface RouteLayer {
  path: string;
  methods: string[];
}

/** The matched route's template; middleware layers (no methods, like the `/api` auth) do not count. */
function routeTemplate(layers: RouteLayer[] | undefined): string {
  const routes = (layers ?? []).filter((layer) => layer.methods.length > 0);
  return routes.length > 0 ? routes[routes.length - 1].path : "unmatched";
}
