import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startRedisCluster } from "@mechamap/cluster-runner";
import type { RedisServer } from "../targets/target";
import { trackPids } from "./children";

export interface RunningRedisCluster {
  /** Masters and replicas. */
  servers: RedisServer[];
  /** `127.0.0.1:port` of every server: what REDIS_CLUSTER_NODES takes. */
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster of 3 masters + 3 replicas, started by packages/cluster-runner's code (the
 * same one `npm run cluster -- --redis-cluster` and ours-cluster use), nothing saved. Its servers
 * inherit the harness's affinity: the generator's core, like the single redis-server.
 */
export async function startLocalRedisCluster(): Promise<RunningRedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-redis-cluster-"));
  const logsDir = path.join(dir, "logs");
  await mkdir(logsDir);
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  try {
    cluster = await startRedisCluster({ dir, logsDir, timeoutMs: 20_000 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { processes, ports, nodes } = cluster;
  const servers = ports.map((port) => ({ port, pid: processes.find((p) => p.name === `redis-${port}`)?.pid ?? 0 }));
  const forget = trackPids(processes.map((p) => p.pid));
  return {
    servers,
    nodes,
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop("SIGTERM", 5000)));
      forget();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
