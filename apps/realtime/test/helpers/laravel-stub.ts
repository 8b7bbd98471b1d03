import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StubCall {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

const servers = new Set<Server>();

afterEach(async () => {
  await Promise.all(
    [...servers].map(
      (server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    ),
  );
  servers.clear();
});

export type StubAnswer = (call: StubCall) => { status: number; body?: unknown; delayMs?: number };

/** A stand-in for Laravel's side of the callbacks: a real HTTP server on loopback that records calls. */
export async function startLaravelStub(answer: StubAnswer) {
  const calls: StubCall[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const call = {
        path: req.url ?? "",
        headers: req.headers,
        body: parseBody(req.headers["content-type"], Buffer.concat(chunks).toString()),
      };
      calls.push(call);
      const { status, body, delayMs = 0 } = answer(call);
      setTimeout(
        () => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body ?? {})),
        delayMs,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.add(server);
  return { url, calls };
}

/** JSON bodies (our callbacks) and form bodies (Laravel's `/broadcasting/auth`, as Echo servers send it). */
function parseBody(type: string | undefined, text: string): Record<string, unknown> {
  if (type?.startsWith("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  return JSON.parse(text || "{}") as Record<string, unknown>;
}
