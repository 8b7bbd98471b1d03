import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, ClusterOptions } from "./cluster";
import { LocalCluster } from "./local-cluster";
import { resolveSettings } from "./settings";

/**
 * Starts Redis (unless `redis: false`), N realtime nodes and nginx in front of them, all on
 * 127.0.0.1, and resolves once every part answers. If any part fails, everything already started is
 * stopped before the error is thrown; the caller owns the result and must call `stop()`.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const settings = resolveSettings(options);
  if (!existsSync(settings.nodeScript)) {
    throw new Error(`${settings.nodeScript} is missing: build first (npm run build)`);
  }
  const runDir = await mkdtemp(join(tmpdir(), "mechamap-cluster-"));
  // As root, nginx workers run as an unprivileged user and must be able to reach their temp dirs.
  await chmod(runDir, 0o711);
  await mkdir(join(runDir, "logs"));
  const cluster = new LocalCluster(settings, runDir, options.onUnexpectedExit);
  try {
    await cluster.boot();
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
