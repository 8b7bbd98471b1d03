import type { Readable } from "node:stream";

/**
 * Resolves with the first line of `stream` that `match` accepts (returning a value), or rejects
 * after `timeoutMs` / when the stream ends. Keeps only a short tail for the error message.
 */
export function waitForLine<T>(
  stream: Readable,
  match: (line: string) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let pending = "";
    let tail: string[] = [];
    const finish = (error: Error | undefined, value?: T): void => {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      if (error) reject(error);
      else resolve(value as T);
    };
    const onData = (chunk: Buffer | string): void => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        tail = [...tail.slice(-4), line];
        const value = match(line);
        if (value !== undefined) return finish(undefined, value);
      }
    };
    const onEnd = (): void => finish(new Error(`${what}: exited before it was ready\n${tail.join("\n")}`));
    const timer = setTimeout(
      () => finish(new Error(`${what}: not ready within ${timeoutMs} ms\n${tail.join("\n")}`)),
      timeoutMs,
    );
    stream.on("data", onData);
    stream.once("end", onEnd);
  });
}

/** `{"msg":"listening","port":N}`: how ours and the bench's own servers announce their port. */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return parsed.msg === "listening" && typeof parsed.port === "number" ? parsed.port : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a stream to nowhere: a child blocked on a full stdout pipe would distort the run. */
export function drain(stream: Readable | null): void {
  stream?.resume();
}
