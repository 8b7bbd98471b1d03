import Router from "@koa/router";
import type { Registry } from "prom-client";
import { RealtimeError } from "../../core/realtime-error";

export interface HealthReport {
  status: "ok" | "degraded" | "draining";
  node: string;
  uptime_s: number;
  connections: number;
  redis: "ok" | "embedded" | "down";
  /** Only in cluster mode: `degraded` while a master that had replicas has none (see SCALING.md). */
  durability?: "replicated" | "degraded" | "single";
  version: string;
}

export interface HealthRouteOptions {
  report: () => HealthReport;
  registry: Registry;
  metricsToken?: string;
}

/** `/health` (503 unless ok), `/health/live`, and `/metrics` (bearer token when configured). */
export function healthRoutes(options: HealthRouteOptions): Router {
  const router = new Router();

  router.get("/health", (ctx) => {
    const report = options.report();
    ctx.status = report.status === "ok" ? 200 : 503;
    ctx.body = report;
  });

  router.get("/health/live", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/metrics", async (ctx) => {
    if (options.metricsToken && ctx.get("Authorization") !== `Bearer ${options.metricsToken}`) {
      throw new RealtimeError("unauthorized", "metrics need the bearer token");
    }
    ctx.type = options.registry.contentType;
    ctx.body = await options.registry.metrics();
  });

  return router;
}
