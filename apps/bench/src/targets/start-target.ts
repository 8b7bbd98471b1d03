import { startBare } from "./bare";
import { startBareCluster } from "./bare-cluster";
import { startEcho } from "./echo";
import { startOurs, startOursBaseline } from "./ours";
import { startOursCluster } from "./ours-cluster";
import { startRawWs } from "./raw-ws";
import type { RunningTarget, TargetName, TargetOptions } from "./target";

const STARTERS: Record<TargetName, (options: TargetOptions) => Promise<RunningTarget>> = {
  ours: startOurs,
  bare: startBare,
  echo: startEcho,
  ws: startRawWs,
  "ours-cluster": startOursCluster,
  "bare-cluster": startBareCluster,
  "ours-base": startOursBaseline,
};

/** Starts a fresh target (and its Redis, if it needs one) for one run. */
export function startTarget(name: TargetName, options: TargetOptions): Promise<RunningTarget> {
  return STARTERS[name](options);
}
