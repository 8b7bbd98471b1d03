import type { IncomingMessage } from "node:http";
import { forbiddenKeyIn } from "../core/forbidden-keys";
import { RealtimeError, validationFailed } from "../core/realtime-error";

/** Past this many bytes beyond the limit, a body is no longer drained but cut off. */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

/**
 * Reads a JSON body of at most `limit` bytes and `maxDepth` levels of objects and arrays. An
 * oversized body is read to its end (up to a bound) and dropped, so that the client gets the 413
 * rather than a reset connection.
 */
export async function readJsonBody(req: IncomingMessage, limit: number, maxDepth: number): Promise<unknown> {
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
  // Checked on the text, before parsing: everything after (validation, the forbidden-key scan, the
  // fan-out's JSON.stringify) may then recurse without a depth of its own to fear.
  if (nestingDepth(text, maxDepth) > maxDepth) {
    throw validationFailed([{ path: "body", message: `JSON nested deeper than ${maxDepth} levels` }]);
  }
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

/** The deepest nesting of `{` and `[` outside strings, counted up to just past `stopAbove`. */
function nestingDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest && (deepest = depth) > stopAbove) return deepest;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

const [QUOTE, BACKSLASH, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d];

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
    // A client that goes away mid-body ("aborted", a reset, HTTP_REQUEST_TIMEOUT_MS) is not a
    // failure of the node: a 4xx nobody reads, not an error with a stack in the log.
    const endedEarly = (): void => reject(new RealtimeError("invalid_json", "body ended early"));
    req.on("error", endedEarly);
    req.on("close", () => {
      if (!req.complete) endedEarly();
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
