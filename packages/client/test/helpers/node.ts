import { ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jwt from "jsonwebtoken";

/**
 * The node as `npm start` runs it. Not a declared dependency of this package: the node depends on
 * this one (it serves the bundle and the demo), so turbo.json makes this package's tests wait for
 * the node's build instead.
 */
const MAIN = join(__dirname, "../../../../apps/realtime/dist/main.js");

export const API_KEY = "client-test-api-key-0123456789";
export const JWT_SECRET = "client-test-jwt-secret-long-enough-0123456";

export interface TestNode {
  url: string;
  port: number;
  /** What the process printed on stderr (the development example). */
  stderr: () => string;
  /** A request to the node's HTTP API with the API key. */
  api(path: string, body?: unknown): Promise<Response>;
  /** POST /api/broadcast; fails the test unless accepted. */
  broadcast(body: Record<string, unknown>): Promise<{ id: string; offset: string }>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
afterEach(async () => {
  await Promise.all([...running].map(stop));
});

/** Starts `node apps/realtime/dist/main.js` on a free loopback port; stopped by PID after the test. */
export async function startNode(env: Record<string, string> = {}, withSecrets = true): Promise<TestNode> {
  const secrets = withSecrets ? { JWT_SECRET, LARAVEL_API_KEY: API_KEY } : {};
  const child = spawn(process.execPath, [MAIN], {
    cwd: mkdtempSync(join(tmpdir(), "rt-client-")),
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", ...secrets, ...env },
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n").find((l) => l.includes('"msg":"listening"'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`node exited with ${code}: ${stderr}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const api = (path: string, body?: unknown) =>
    fetch(url + path, {
      method: body === undefined ? "GET" : "POST",
      headers: { "X-WebSocket-API-Key": API_KEY, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    url,
    port,
    stderr: () => stderr,
    api,
    async broadcast(body) {
      const response = await api("/api/broadcast", body);
      const answer = (await response.json()) as { success: boolean; id: string; offset: string };
      if (response.status !== 200 || !answer.success) throw new Error(`broadcast refused: ${JSON.stringify(answer)}`);
      return answer;
    },
    stop: () => stop(child),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

export function tokenFor(userId: string | number, options: jwt.SignOptions = {}): string {
  return jwt.sign({ sub: userId }, JWT_SECRET, { algorithm: "HS256", expiresIn: 3600, ...options });
}

/** Resolves once `predicate` holds, checking after each event loop turn with I/O; rejects after `ms`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  ms = 10000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
