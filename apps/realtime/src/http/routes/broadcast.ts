import Router from "@koa/router";
import type { ValidationDetail } from "@mechamap/protocol";
import { parseBatch, parseBroadcast, BroadcastCommand } from "../../core/broadcast-request";
import type { PublishResult, Publisher } from "../../core/publisher";
import { RealtimeError, unavailableOnFailure, validationFailed } from "../../core/realtime-error";
import { BoundChildren, RealtimeMetrics } from "../../observability/metrics";
import { readJsonBody } from "../body";

export interface BroadcastRouteOptions {
  publisher: Publisher;
  metrics: RealtimeMetrics;
  maxPayloadBytes: number;
  /** MAX_JSON_DEPTH: deeper bodies are refused (422) before they are parsed. */
  maxJsonDepth: number;
  /** False while this node cannot fan out (draining, backend down): answer 503, never a 2xx. */
  canPublish: () => boolean;
}

/** The answer for one accepted broadcast: channel and offset for single-channel targets. */
function describe(result: PublishResult) {
  const single = result.channels.length === 1 ? result.channels[0] : undefined;
  return {
    success: true,
    id: result.id,
    ...(result.duplicate ? { duplicate: true } : {}),
    ...(single ? { channel: single.channel, offset: single.offset } : { channels: result.channels.length }),
  };
}

export function broadcastRoutes(options: BroadcastRouteOptions): Router {
  const { publisher, metrics } = options;
  const router = new Router();
  const counted = new BoundChildren((target, outcome) => metrics.broadcasts.labels({ target, outcome }));

  async function publish(command: BroadcastCommand): Promise<PublishResult> {
    if (!options.canPublish()) throw new RealtimeError("unavailable", "this node cannot fan out right now");
    try {
      const result = await unavailableOnFailure(publisher.publish(command));
      counted.of(command.target, result.duplicate ? "duplicate" : "accepted").inc();
      return result;
    } catch (error) {
      counted.of(command.target, "unavailable").inc();
      throw error;
    }
  }

  router.post("/api/broadcast", async (ctx) => {
    const body = await readJsonBody(ctx.req, options.maxPayloadBytes, options.maxJsonDepth);
    const problems: ValidationDetail[] = [];
    const header = ctx.get("Idempotency-Key") || undefined;
    const command = parseBroadcast(body, problems, "", header, ctx.get("X-Socket-ID") || undefined);
    if (!command) {
      counted.of("invalid", "rejected").inc();
      throw validationFailed(problems);
    }
    ctx.body = describe(await publish(command));
  });

  router.post("/api/broadcast/batch", async (ctx) => {
    const body = await readJsonBody(ctx.req, options.maxPayloadBytes, options.maxJsonDepth);
    const problems: ValidationDetail[] = [];
    const commands = parseBatch(body, problems);
    if (problems.length > 0) {
      counted.of("batch", "rejected").inc();
      throw validationFailed(problems);
    }
    const results = [];
    for (const command of commands) {
      try {
        results.push(describe(await publish(command)));
      } catch (error) {
        // Stop at the first failure; the ones before it are delivered and listed.
        ctx.status = 503;
        ctx.body = { success: false, error: "unavailable", message: (error as Error).message, results };
        return;
      }
    }
    ctx.body = { success: true, results };
  });

  return router;
}
