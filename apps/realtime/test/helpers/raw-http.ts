import { connect } from "node:net";

export interface RawExchange {
  /** The status of the answer, or undefined when the connection closed without one. */
  status: number | undefined;
  /** Everything the server sent, headers included. */
  text: string;
  elapsedMs: number;
}

/**
 * Writes `bytes` on a fresh TCP connection and reads until the server closes it (or `timeoutMs`,
 * then the exchange fails): for requests no HTTP client would send.
 */
export function rawExchange(port: number, bytes: Buffer | string, timeoutMs = 10_000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // The server may close before reading everything (an answer sent early): that is an answer too.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), text, elapsedMs: Date.now() - started });
    });
    socket.write(bytes);
  });
}

/** An HTTP/1.1 request as bytes, closing the connection after the answer. */
export function httpRequest(
  method: string,
  path: string,
  headers: Array<[string, string]>,
  body: Buffer | string = "",
): Buffer {
  const head = [
    `${method} ${path} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Connection: close",
    ...headers.map(([name, value]) => `${name}: ${value}`),
    ...(body.length > 0 || method === "POST" ? [`Content-Length: ${Buffer.byteLength(body)}`] : []),
  ].join("\r\n");
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), Buffer.from(body)]);
}
