import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "../observability/logger";
import { BoundChildren, RealtimeMetrics } from "../observability/metrics";

const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Request id (from `X-Request-Id` when sane), one log line per API request, and the request
 * metrics labelled by route template (never the raw path, which holds ids).
 */
export function requestContext(logger: Logger, metrics: RealtimeMetrics): Middleware {
  const requests = new BoundChildren((route, method, status) => metrics.apiRequests.labels({ route, method, status }));
  const durations = new BoundChildren((route, method) => metrics.apiDuration.labels({ route, method }));
  // The level is set once at start (LOG_LEVEL); winston's check walks its transports on every call.
  const enabled = {
    debug: logger.isLevelEnabled("debug"),
    info: logger.isLevelEnabled("info"),
    error: logger.isLevelEnabled("error"),
  };
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
      requests.of(route, ctx.method, String(ctx.status)).inc();
      durations.of(route, ctx.method).observe(seconds);
      // Accepted API calls are the hot path: logged at debug only.
      const level = ctx.status >= 500 ? "error" : ctx.status >= 400 ? "info" : "debug";
      if (enabled[level]) {
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
  const list = layers ?? [];
  for (let i = list.length - 1; i >= 0; i--) if (list[i].methods.length > 0) return list[i].path;
  return "unmatched";
}
