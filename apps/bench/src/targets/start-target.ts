import { startBare } from "./bare";
import { startEcho } from "./echo";
import { startOurs, startOursBaseline } from "./ours";
import { startOursCluster, startOursClusterBaseline } from "./ours-cluster";
import { startRawWs } from "./raw-ws";
import { startBareCluster, startShardedCluster } from "./socketio-cluster";
import { CLUSTER_TARGET_NAMES, RunningTarget, TargetName, TargetOptions } from "./target";

const STARTERS: Record<TargetName, (options: TargetOptions) => Promise<RunningTarget>> = {
  ours: startOurs,
  bare: startBare,
  echo: startEcho,
  ws: startRawWs,
  "ours-cluster": startOursCluster,
  "bare-cluster": startBareCluster,
  "sharded-cluster": startShardedCluster,
  "ours-base": startOursBaseline,
  "ours-cluster-base": startOursClusterBaseline,
};

/** Starts a fresh target (and its Redis, if it needs one) for one run. */
export function startTarget(name: TargetName, options: TargetOptions): Promise<RunningTarget> {
  if (options.redisCluster && !(CLUSTER_TARGET_NAMES as readonly string[]).includes(name)) {
    return Promise.reject(new Error(`${name} is a single-node target: it has no Redis Cluster topology`));
  }
  return STARTERS[name](options);
}
