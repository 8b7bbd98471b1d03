import { spawn, execFile, ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestRedisCluster {
  /** `host:port` of every node, masters and replicas: what REDIS_CLUSTER_NODES takes. */
  nodes: string[];
  ports: number[];
  /** The pid of the redis-server on `port`, to kill -9 a master in a fault test. */
  pidOf(port: number): number | undefined;
  /** Ports of the nodes that are masters right now. */
  masters(): Promise<number[]>;
  /** Ports of the nodes that are replicas right now. */
  replicas(): Promise<number[]>;
  /** Kills one node like kill -9. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again on its port, with its cluster identity (nodes-<port>.conf): a restart. */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** A port that is free, and whose cluster bus port (+10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    // Both below Linux's ephemeral range (32768+), where an outgoing connection could take the port
    // between this check and redis's bind (as packages/cluster-runner's redis-cluster-servers.ts).
    const port = 20000 + Math.floor(Math.random() * 2700);
    const free = async (candidate: number) => (await listenOn(candidate).catch(() => 0)) !== 0;
    if ((await free(port)) && (await free(port + 10000))) return port;
  }
}

async function listenOn(port: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-p", String(port), ...args]);
  return stdout;
}

/**
 * A private Redis Cluster of `masters` masters with one replica each, on free loopback ports,
 * without persistence, stopped by pid. `cluster-node-timeout` is short so that a failover takes
 * a few seconds, as in production with a tuned timeout.
 */
export async function startRedisCluster(masters = 3, nodeTimeoutMs = 2000): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "rt-cluster-"));
  const children = new Map<number, ChildProcess>();
  const ports: number[] = [];
  while (ports.length < masters * 2) {
    const port = await freeClusterPort();
    if (!ports.includes(port)) ports.push(port);
  }
  const stop = async (): Promise<void> => {
    await Promise.all([...children.keys()].map((port) => kill(port)));
    rmSync(dir, { recursive: true, force: true });
  };
  const kill = async (port: number): Promise<void> => {
    const child = children.get(port);
    children.delete(port);
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGKILL");
    });
  };
  try {
    await Promise.all(ports.map((port) => startNode(port, dir, nodeTimeoutMs, children)));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
    await untilClusterOk(ports);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map((port) => `127.0.0.1:${port}`),
    ports,
    pidOf: (port) => children.get(port)?.pid,
    async masters() {
      const alive = ports.filter((port) => children.has(port));
      const roles = await Promise.all(alive.map((port) => cli(port, "ROLE").catch(() => "")));
      return alive.filter((_, index) => roles[index].startsWith("master"));
    },
    async replicas() {
      const alive = ports.filter((port) => children.has(port));
      const roles = await Promise.all(alive.map((port) => cli(port, "ROLE").catch(() => "")));
      return alive.filter((_, index) => roles[index].startsWith("slave"));
    },
    kill,
    restart: (port) => startNode(port, dir, nodeTimeoutMs, children),
    stop,
  };
}

async function startNode(
  port: number,
  dir: string,
  nodeTimeoutMs: number,
  children: Map<number, ChildProcess>,
): Promise<void> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(dir, `nodes-${port}.conf`),
      "--cluster-node-timeout",
      String(nodeTimeoutMs),
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.set(port, child);
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server on ${port} exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Ready to accept connections")) resolve();
    });
  });
  child.stdout?.resume();
}

/** Waits until every node sees the whole cluster healthy (all slots served, every node known). */
async function untilClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(ports.map((port) => cli(port, "CLUSTER", "INFO")));
    const ok = infos.every(
      (info) => info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${ports.length}`),
    );
    const replicas = await Promise.all(ports.map((port) => cli(port, "ROLE")));
    const linked = replicas.filter((role) => role.startsWith("slave") && role.includes("connected")).length;
    if (ok && linked === ports.length / 2) return;
    if (Date.now() > deadline) throw new Error("Redis Cluster did not become healthy within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
