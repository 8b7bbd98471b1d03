import type { IncomingMessage } from "node:http";
import { forbiddenKeyIn } from "../core/forbidden-keys";
import { RealtimeError, validationFailed } from "../core/realtime-error";

/** Past this many bytes beyond the limit, a body is no longer drained but cut off. */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

/**
 * Reads a JSON body of at most `limit` bytes. An oversized body is read to its end (up to a bound)
 * and dropped, so that the client gets the 413 rather than a reset connection.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    await drain(req, limit);
    throw new RealtimeError("unsupported_media_type", "Content-Type must be application/json");
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    await drain(req, declared);
    throw new RealtimeError("payload_too_large", `body over ${limit} bytes`);
  }
  const text = await readText(req, limit);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RealtimeError("invalid_json", "body is not valid JSON");
  }
  const path = forbiddenKeyIn(text, body);
  if (path !== undefined) throw validationFailed([{ path, message: "forbidden key" }]);
  return body;
}

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) {
        if (size > limit + MAX_DRAIN_BYTES) req.destroy();
        return;
      }
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () =>
      tooLarge
        ? reject(new RealtimeError("payload_too_large", `body over ${limit} bytes`))
        : resolve(Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new RealtimeError("invalid_json", "body ended early"));
    });
  });
}

/** Reads and drops the rest of a refused body, unless it is absurdly large. */
function drain(req: IncomingMessage, expected: number): Promise<void> {
  // Node discards what is left after the answer; the error middleware closes the connection then.
  if (req.complete || expected > MAX_DRAIN_BYTES) return Promise.resolve();
  return new Promise((resolve) => {
    req.on("end", resolve);
    req.on("close", resolve);
    req.on("error", resolve);
    req.resume();
  });
}
