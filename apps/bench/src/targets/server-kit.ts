import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventMeta } from "@mechamap/protocol";

/**
 * The little the hand-written baselines share: API-key check, body reading, and the broadcast
 * shape of SPEC §3 narrowed to `"to":"channel"`. Deliberately minimal — these are the "what a team
 * would write by hand" servers, not products.
 */
export interface ChannelBroadcast {
  event: string;
  channel: string;
  data: Record<string, unknown>;
}

const MAX_BODY_BYTES = 100 * 1024;

function apiKeyCheck(rawKey: string): (req: IncomingMessage) => boolean {
  const expected = createHash("sha256").update(rawKey).digest();
  return (req) => {
    const given = req.headers["x-websocket-api-key"];
    if (typeof given !== "string") return false;
    return timingSafeEqual(createHash("sha256").update(given).digest(), expected);
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error("body too large"));
      else chunks.push(chunk);
    });
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

function parseChannelBroadcast(text: string): ChannelBroadcast | undefined {
  try {
    const body = JSON.parse(text) as Partial<Record<keyof ChannelBroadcast, unknown>>;
    const { event, channel, data } = body;
    if (typeof event !== "string" || typeof channel !== "string") return undefined;
    if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
    return { event, channel, data: data as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Same meta as ours sends, so every Socket.IO-shaped target puts the same bytes on the wire. */
function metaFactory(): (channel: string) => EventMeta {
  let offset = 0;
  return (channel) => ({ id: randomUUID(), channel, offset: String(++offset), ts: Date.now() });
}

/**
 * `POST /api/broadcast` as every hand-written baseline answers it: API key, body, SPEC §3's
 * `"to":"channel"` shape, a meta like ours; `deliver` does the target's own fan-out.
 */
export function broadcastEndpoint(
  apiKey: string,
  deliver: (broadcast: ChannelBroadcast, meta: EventMeta) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const isAuthorized = apiKeyCheck(apiKey);
  const nextMeta = metaFactory();
  return (req, res) => {
    if (req.method !== "POST" || req.url !== "/api/broadcast") return sendJson(res, 404, { success: false });
    if (!isAuthorized(req)) return sendJson(res, 401, { success: false, error: "unauthorized" });
    readBody(req).then(
      (text) => {
        const broadcast = parseChannelBroadcast(text);
        if (!broadcast) return sendJson(res, 422, { success: false, error: "validation_failed" });
        const meta = nextMeta(broadcast.channel);
        deliver(broadcast, meta);
        sendJson(res, 200, { success: true, id: meta.id, channel: meta.channel, offset: meta.offset });
      },
      () => sendJson(res, 400, { success: false, error: "invalid_json" }),
    );
  };
}

export function sendJson(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** The line the harness waits for (the same one ours logs). */
export function announceListening(port: number): void {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port })}\n`);
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}
