import type { IncomingMessage } from "node:http";
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

/** Serves one `POST /api/broadcast` whose caller is authorised: reads, validates, publishes, answers. */
export type BroadcastCall = (req: IncomingMessage) => Promise<object>;

/** `POST /api/broadcast` and its batch. The single call is served by `single`, shared with the broadcast lane. */
export function broadcastRoutes(options: BroadcastRouteOptions, single: BroadcastCall): Router {
  const router = new Router();
  const publish = publishing(options);
  const { metrics } = options;

  router.post("/api/broadcast", async (ctx) => {
    ctx.body = await single(ctx.req);
  });

  router.post("/api/broadcast/batch", async (ctx) => {
    const body = await readJsonBody(ctx.req, options.maxPayloadBytes, options.maxJsonDepth);
    const problems: ValidationDetail[] = [];
    const commands = parseBatch(body, problems);
    if (problems.length > 0) {
      metrics.broadcasts.inc({ target: "batch", outcome: "rejected" });
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

/** The single broadcast call, for the Koa route above and the broadcast lane (broadcast-lane.ts). */
export function broadcastCall(options: BroadcastRouteOptions): BroadcastCall {
  const publish = publishing(options);
  const rejected = options.metrics.broadcasts.labels({ target: "invalid", outcome: "rejected" });
  return async (req) => {
    const body = await readJsonBody(req, options.maxPayloadBytes, options.maxJsonDepth);
    const problems: ValidationDetail[] = [];
    const { headers } = req;
    const command = parseBroadcast(
      body,
      problems,
      "",
      headerValue(headers["idempotency-key"]),
      headerValue(headers["x-socket-id"]),
    );
    if (!command) {
      rejected.inc();
      throw validationFailed(problems);
    }
    return describe(await publish(command));
  };
}

/** A header as Koa's `ctx.get` reads it, with absent and empty both undefined. */
function headerValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Publishes one command when this node can fan out, counting its outcome by target. */
function publishing(options: BroadcastRouteOptions): (command: BroadcastCommand) => Promise<PublishResult> {
  const { publisher, metrics } = options;
  const counted = new BoundChildren((target, outcome) => metrics.broadcasts.labels({ target, outcome }));
  return async (command) => {
    if (!options.canPublish()) throw new RealtimeError("unavailable", "this node cannot fan out right now");
    try {
      const result = await unavailableOnFailure(publisher.publish(command));
      counted.of(command.target, result.duplicate ? "duplicate" : "accepted").inc();
      return result;
    } catch (error) {
      counted.of(command.target, "unavailable").inc();
      throw error;
    }
  };
}
