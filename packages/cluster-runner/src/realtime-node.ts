import { join } from "node:path";
import { answers200, pollUntil } from "./http-probe";
import { ManagedProcess, spawnManaged } from "./managed-process";

export interface RealtimeNodeSpec {
  id: string;
  script: string;
  /** Node.js options before the script. */
  nodeArgs: string[];
  env: Record<string, string>;
  cwd: string;
  logsDir: string;
  timeoutMs: number;
}

export interface StartedNode {
  process: ManagedProcess;
  port: number;
}

/**
 * Starts one node and resolves once `/health` answers 200. The port comes from its "listening" log
 * line, so PORT=0 needs no free-port guess; a restart passes the old port again (nginx knows it).
 */
export async function startRealtimeNode(spec: RealtimeNodeSpec): Promise<StartedNode> {
  const node = await spawnManaged({
    name: spec.id,
    command: process.execPath,
    args: [...spec.nodeArgs, spec.script],
    env: spec.env,
    cwd: spec.cwd,
    logFile: join(spec.logsDir, `${spec.id}.log`),
  });
  try {
    const line = await node.waitForLine((text) => listeningPort(text) !== null, spec.timeoutMs);
    const port = listeningPort(line) as number;
    // /health is 503 until the node can fan out (Redis connected); nothing to wait on but itself.
    await pollUntil(`${spec.id} /health`, () => answers200(`http://127.0.0.1:${port}/health`), {
      timeoutMs: spec.timeoutMs,
      abort: () => (node.running ? null : new Error(`${spec.id} exited during start-up`)),
    });
    return { process: node, port };
  } catch (error) {
    await node.stop("SIGKILL", 1000);
    throw error;
  }
}

function listeningPort(line: string): number | null {
  if (!line.startsWith("{")) return null;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return entry.msg === "listening" && typeof entry.port === "number" ? entry.port : null;
  } catch {
    return null;
  }
}
