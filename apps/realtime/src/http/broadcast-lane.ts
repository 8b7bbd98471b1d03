import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from "node:http";
import { errorDetail, Logger } from "../observability/logger";
import type { ApiGate } from "./api-auth";
import { errorAnswer } from "./error-middleware";
import type { RequestRecorder } from "./request-context";
import type { BroadcastCall } from "./routes/broadcast";

export interface BroadcastLaneParts {
  recorder: RequestRecorder;
  gate: ApiGate;
  call: BroadcastCall;
  logger: Logger;
}

const ROUTE = "/api/broadcast";

/**
 * `POST /api/broadcast`, the call Laravel makes most, in front of Koa. Koa's context objects, its
 * middleware chain, the router's path matching and its finish listeners were 13 % of a node's busy
 * time at 2000 calls/s (docs/PERFORMANCE.md, "The broadcast lane"). The lane runs the same parts as
 * the Koa app, in the same order — request id and metrics (RequestRecorder), API key and rate limit
 * (ApiGate), the route (BroadcastCall), error answers (errorAnswer) — so there is one semantics, not a
 * second copy.
 * Anything else, including a call with an `Origin` (CORS is Koa's), a query string or another
 * method, goes to `next`: the Koa app.
 */
export function broadcastLane(parts: BroadcastLaneParts, next: RequestListener): RequestListener {
  return (req, res) => {
    if (req.url !== ROUTE || req.method !== "POST" || req.headers.origin !== undefined) return next(req, res);
    serve(parts, req, res).catch((error: unknown) => {
      // Past the answer's making (metrics, the write): as Koa does, log it and drop the response.
      parts.logger.error("request failed", errorDetail(error));
      res.destroy();
    });
  };
}

async function serve(parts: BroadcastLaneParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const given = req.headers["x-request-id"];
  const record = parts.recorder.begin(typeof given === "string" ? given : undefined);
  const headers: OutgoingHttpHeaders = { "X-Request-Id": record.requestId };
  let status = 200;
  let body: object;
  try {
    await parts.gate(req.headers);
    body = await parts.call(req);
  } catch (error) {
    const answer = errorAnswer(error, parts.logger, record.requestId);
    status = answer.status;
    body = answer.body;
    if (answer.retryAfterS !== undefined) headers["Retry-After"] = String(answer.retryAfterS);
    // Part of the body is still unread: the connection cannot carry another request.
    if (!req.complete) headers.Connection = "close";
  }
  parts.recorder.end(record, ROUTE, "POST", status);
  const text = JSON.stringify(body);
  // What Koa would send for the same body.
  headers["Content-Type"] = "application/json; charset=utf-8";
  headers["Content-Length"] = Buffer.byteLength(text);
  res.writeHead(status, headers).end(text);
}
