import type { RequestListener } from "node:http";
import Koa from "koa";
import Router from "@koa/router";
import type { Logger } from "../observability/logger";
import type { RealtimeMetrics } from "../observability/metrics";
import type { OriginAllowlist } from "../auth/origin-allowlist";
import { apiAuth, apiGate, ApiAuthOptions } from "./api-auth";
import { broadcastLane } from "./broadcast-lane";
import { cors } from "./cors";
import { errorMiddleware } from "./error-middleware";
import { RequestRecorder, requestContext } from "./request-context";
import { broadcastCall, broadcastRoutes, BroadcastRouteOptions } from "./routes/broadcast";
import { demoRoutes, DemoRouteOptions } from "./routes/demo";
import { healthRoutes, HealthRouteOptions } from "./routes/health";
import { presenceRoutes, PresenceRouteOptions } from "./routes/presence";

export interface HttpAppOptions {
  logger: Logger;
  metrics: RealtimeMetrics;
  corsOrigins: OriginAllowlist;
  auth: Omit<ApiAuthOptions, "metrics">;
  broadcast: Omit<BroadcastRouteOptions, "metrics">;
  presence: PresenceRouteOptions;
  health: HealthRouteOptions;
  /** The development demo (/demo); left out in production. */
  demo?: DemoRouteOptions;
}

/**
 * The request listener of a node's HTTP API: the Koa app, with the broadcast lane in front of it
 * for the single broadcast call (broadcast-lane.ts). It never listens (main.ts and the tests mount it).
 */
export function createHttpApp(options: HttpAppOptions): RequestListener {
  const { logger, metrics } = options;
  const recorder = new RequestRecorder(logger, metrics);
  const gate = apiGate({ ...options.auth, metrics });
  const single = broadcastCall({ ...options.broadcast, metrics });

  const app = new Koa();
  app.proxy = true;
  app.silent = true;
  const api = new Router({ prefix: "" });
  api.use("/api", apiAuth(gate));
  const routers = [
    healthRoutes(options.health),
    broadcastRoutes({ ...options.broadcast, metrics }, single),
    presenceRoutes(options.presence),
    ...(options.demo ? [demoRoutes(options.demo)] : []),
  ];
  for (const router of routers) api.use(router.routes());

  app.use(requestContext(recorder));
  app.use(errorMiddleware(logger));
  app.use(cors(options.corsOrigins));
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: true }));
  return broadcastLane({ recorder, gate, call: single, logger }, app.callback());
}
