import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "../observability/logger";
import { BoundChildren, RealtimeMetrics } from "../observability/metrics";

const REQUEST_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** One API request in flight: its id and when it began. */
export interface RequestRecord {
  requestId: string;
  started: bigint;
}

/**
 * Request id (from `X-Request-Id` when sane), one log line per API request, and the request
 * metrics labelled by route template (never the raw path, which holds ids). Shared by the Koa
 * middleware below and the broadcast lane (broadcast-lane.ts), so both keep one semantics.
 */
export class RequestRecorder {
  private readonly requests: BoundChildren<{ inc(): void }>;
  private readonly durations: BoundChildren<{ observe(value: number): void }>;
  // The level is set once at start (LOG_LEVEL); winston's check walks its transports on every call.
  private readonly enabled: Record<"debug" | "info" | "error", boolean>;

  constructor(
    private readonly logger: Logger,
    metrics: RealtimeMetrics,
  ) {
    this.requests = new BoundChildren((route, method, status) => metrics.apiRequests.labels({ route, method, status }));
    this.durations = new BoundChildren((route, method) => metrics.apiDuration.labels({ route, method }));
    this.enabled = {
      debug: logger.isLevelEnabled("debug"),
      info: logger.isLevelEnabled("info"),
      error: logger.isLevelEnabled("error"),
    };
  }

  /** `given`: the request's `X-Request-Id`, kept when sane, else replaced by a fresh id. */
  begin(given: string | undefined): RequestRecord {
    const requestId = given !== undefined && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    return { requestId, started: process.hrtime.bigint() };
  }

  end(record: RequestRecord, route: string, method: string, status: number): void {
    const seconds = Number(process.hrtime.bigint() - record.started) / 1e9;
    this.requests.of(route, method, String(status)).inc();
    this.durations.of(route, method).observe(seconds);
    // Accepted API calls are the hot path: logged at debug only.
    const level = status >= 500 ? "error" : status >= 400 ? "info" : "debug";
    if (this.enabled[level]) {
      this.logger.log(level, "http request", {
        request_id: record.requestId,
        method,
        route,
        status,
        ms: Math.round(seconds * 1e6) / 1e3,
      });
    }
  }
}

export function requestContext(recorder: RequestRecorder): Middleware {
  return async (ctx, next) => {
    const record = recorder.begin(ctx.get("X-Request-Id"));
    ctx.state.requestId = record.requestId;
    ctx.set("X-Request-Id", record.requestId);
    try {
      await next();
    } finally {
      recorder.end(record, routeTemplate(ctx.matched as RouteLayer[] | undefined), ctx.method, ctx.status);
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
