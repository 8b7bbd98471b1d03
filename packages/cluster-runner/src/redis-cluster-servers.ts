import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { findExecutable } from "./executables";
import { ManagedProcess, spawnManaged } from "./managed-process";

const run = promisify(execFile);

export interface OwnRedisCluster {
  processes: ManagedProcess[];
  /** `127.0.0.1:port` of every node, masters and replicas: REDIS_CLUSTER_NODES. */
  nodes: string[];
  ports: number[];
}

/** A failover in a few seconds, as a tuned production cluster (the default 15 s is an eternity here). */
const NODE_TIMEOUT_MS = 2000;

/**
 * A throw-away Redis Cluster of `masters` masters with one replica each on free 127.0.0.1 ports
 * (`--cluster-enabled yes`, then `redis-cli --cluster create --cluster-replicas 1`), nothing saved;
 * resolves once every node sees every slot served and every replica linked.
 */
export async function startRedisCluster(options: {
  dir: string;
  logsDir: string;
  timeoutMs: number;
  masters?: number;
}): Promise<OwnRedisCluster> {
  const command = findExecutable("redis-server");
  const count = (options.masters ?? 3) * 2;
  const ports: number[] = [];
  while (ports.length < count) {
    // The cluster bus listens on port + 10000. Both stay below Linux's ephemeral range (32768+): a port
    // the OS hands out can be taken by any outgoing connection between our check and redis's bind.
    const port = 20000 + Math.floor(Math.random() * 2700);
    if (!ports.includes(port) && (await isFree(port)) && (await isFree(port + 10000))) ports.push(port);
  }
  const processes: ManagedProcess[] = [];
  try {
    await Promise.all(
      ports.map(async (port) => {
        const redis = await spawnManaged({
          name: `redis-${port}`,
          command,
          // prettier-ignore
          args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`,
                 "--cluster-node-timeout", String(NODE_TIMEOUT_MS),
                 "--dir", options.dir, "--daemonize", "no", "--loglevel", "notice"],
          env: { PATH: process.env.PATH ?? "" },
          cwd: options.dir,
          logFile: join(options.logsDir, `redis-${port}.log`),
        });
        processes.push(redis);
        await redis.waitForLine((line) => line.includes("Ready to accept connections"), options.timeoutMs);
      }),
    );
    const cli = findExecutable("redis-cli");
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run(cli, ["--cluster", "create", ...nodes, "--cluster-replicas", "1", "--cluster-yes"]);
    await untilHealthy(cli, ports, options.timeoutMs);
    return { processes, nodes, ports };
  } catch (error) {
    await Promise.all(processes.map((redis) => redis.stop("SIGKILL", 1000)));
    throw error;
  }
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function untilHealthy(cli: string, ports: number[], timeoutMs: number): Promise<void> {
  const ask = async (port: number, ...args: string[]) => (await run(cli, ["-p", String(port), ...args])).stdout;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ports.map((port) => ask(port, "CLUSTER", "INFO")));
    const roles = await Promise.all(ports.map((port) => ask(port, "ROLE")));
    const ok = infos.every(
      (info) => info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${ports.length}`),
    );
    const linked = roles.filter((role) => role.startsWith("slave") && role.includes("connected")).length;
    if (ok && linked === ports.length / 2) return;
    if (Date.now() > deadline) throw new Error(`the Redis Cluster did not become healthy within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
