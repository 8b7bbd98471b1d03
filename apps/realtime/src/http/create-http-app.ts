import Koa from "koa";
import Router from "@koa/router";
import type { Logger } from "../observability/logger";
import type { RealtimeMetrics } from "../observability/metrics";
import type { OriginAllowlist } from "../auth/origin-allowlist";
import { apiAuth, ApiAuthOptions } from "./api-auth";
import { cors } from "./cors";
import { errorMiddleware } from "./error-middleware";
import { requestContext } from "./request-context";
import { broadcastRoutes, BroadcastRouteOptions } from "./routes/broadcast";
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

/** The Koa app of a node; it never listens (main.ts and the tests mount `app.callback()`). */
export function createHttpApp(options: HttpAppOptions): Koa {
  const { logger, metrics } = options;
  const app = new Koa();
  app.proxy = true;
  app.silent = true;

  const api = new Router({ prefix: "" });
  api.use("/api", apiAuth({ ...options.auth, metrics }));
  const routers = [
    healthRoutes(options.health),
    broadcastRoutes({ ...options.broadcast, metrics }),
    presenceRoutes(options.presence),
    ...(options.demo ? [demoRoutes(options.demo)] : []),
  ];
  for (const router of routers) api.use(router.routes());

  app.use(requestContext(logger, metrics));
  app.use(errorMiddleware(logger));
  app.use(cors(options.corsOrigins));
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: true }));
  return app;
}
