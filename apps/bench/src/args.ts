import { parseArgs } from "node:util";
import { DEFAULT_RESULTS_DIR } from "./paths";
import type { FanoutParams } from "./scenarios/fanout";
import { MEMORY_DEFAULTS, memoryScenario } from "./scenarios/memory";
import { QUICK_DEFAULTS, quickScenario } from "./scenarios/quick";
import { S1_DEFAULTS, s1Scenario } from "./scenarios/s1-fanout";
import { S2_DEFAULTS, s2Scenario } from "./scenarios/s2-bursts";
import { S4_DEFAULTS, s4Scenario } from "./scenarios/s4-cross-node";
import { S5_DEFAULTS, s5Scenario } from "./scenarios/s5-small-rooms";
import { S3_DEFAULTS, s3Scenario } from "./scenarios/s3-latency-floor";
import { S6_DEFAULTS, s6Scenario } from "./scenarios/s6-churn";
import { S7_DEFAULTS, s7Scenario } from "./scenarios/s7-slow-consumers";
import { KNEE_DEFAULTS, kneeScenario } from "./scenarios/knee";
import { parseSteps } from "./scenarios/knee-steps";
import { OVERLOAD_DEFAULTS, overloadScenario } from "./scenarios/overload";
import { S8_DEFAULTS, s8Scenario } from "./scenarios/s8-nginx";
import type { Scenario } from "./scenarios/scenario";
import { CLUSTER_TARGET_NAMES, EXTRA_TARGET_NAMES, TARGET_NAMES, TargetName } from "./targets/target";

export const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios
  s1      steady fan-out: 1 room × N subscribers, R events/s           (T1, T4)
  s2      bursts: S1's fan-out, events back to back in groups of 20    (T3)
  s3      latency floor: 1 subscriber, HTTP broadcasts                 (T7, T8)
  s4      cross-node: S1's load, sockets on node 1, posts to node 2    (T9, T7)
          (targets ours-cluster, bare-cluster by default)
  s5      many small rooms over 3 nodes: --rooms × --room-size subscribers, each room on 1 or 2
          nodes, --rate events/s (defaults 1000 × 3, 1000/s) posted to a node without the room's
          members; per-node CPU, Redis CPU, Redis bytes per node (ours-cluster, bare-cluster,
          sharded-cluster); --idle-nodes K: the last K nodes hold no room (what a node without
          members reads)
  s6      connection churn: --churn-rate connect+subscribe+disconnect/s over --subscribers held
          ones receiving --rate events/s (defaults 200/s, 1000, 20/s)                    (T10)
  s7      slow consumers: S1, 5 % of the subscribers stop reading; figures of the healthy 95 %,
          peak RSS, slow connections cut by the server
  s8      through nginx: S1 with subscribers and publisher (HTTP) via an nginx in front of the node
  knee    S1's fan-out on one set of subscribers at rising rates (--steps, events/s), until a
          step's p99 > 50 ms or it loses events; the knee = highest delivered/s that passed   (T2)
  overload S1's subscribers at --rate (20) events/s, then --overload-rate (300) for
          --overload-duration (8) s, then --rate again: peak RSS, survival, refused publishes,
          loss of accepted events, recovery time to p99 ≤ 15 ms                                (T6)
  mem     memory per idle subscribed connection, after full GC         (T5)
  quick   ≤ 30 s smoke run: every target delivers every event, 1 run

options
  --target ours|bare|echo|ws|ours-cluster|bare-cluster|sharded-cluster|ours-base|ours-cluster-base
                               repeat or comma-separate; default the first four (s4: ours-cluster,
                               bare-cluster; s5: + sharded-cluster), interleaved; ours-cluster = N nodes
                               on Redis via cluster-runner, bare-cluster = N bare socket.io nodes on the
                               redis-adapter, sharded-cluster = the same on its sharded adapter
                               (dynamic); ours-base / ours-cluster-base = ours / ours-cluster from
                               BENCH_BASELINE_MAIN (another checkout's apps/realtime/dist/main.js), to
                               compare a change before/after
  --nodes N                    nodes of the cluster targets (default 2; s5: 3)
  --redis-cluster              the cluster targets run on a local Redis Cluster (3 masters + 3
                               replicas) instead of one redis-server; cluster targets only
  --idle-nodes K               s5: the last K nodes hold no member and get no post (default 0)
  --rooms N --room-size K      s5: rooms and subscribers per room (default 1000, 3)
  --runs N                     runs per target (default 3; quick: 1)
  --subscribers N --rate R --duration S --warmup S --workers N --pad BYTES
  --churn-rate C               s6: connects per second (default 200)
  --steps 50,100,...           knee: events/s of each step (default 50,100,150,200,250,300)
  --step-duration S            knee: seconds per step, --warmup (default 1) of it excluded (default 5)
  --overload-rate R            overload: events/s of the overload phase (default 300)
  --overload-duration S        overload: its length (default 8); --duration: the baseline's (6),
  --recovery-duration S        and the recovery phase's (default 10)
  --slow-every N               s7: every N-th subscriber stops reading (default 20: 5 %)
  --burst K                    events per burst (s2: 20, others 1); --rate stays events/s
  --ingress native|http        s1, s2, s7, knee, overload: each target's usual way in (echo: Redis) or HTTP for all
  --levels 1000,5000           mem: connection counts
  --no-pin                     do not pin server (core 0) and generator (core 1) with taskset
  --wait-quiet S               before each run, wait up to S s for other jobs on the machine to calm down
  --retry-noisy N              run a disturbed run (other jobs, generator > 70 %, slow host) again, ≤ N times
  --cpu-prof                   run the servers under node --cpu-prof and print their hot spots
  --out DIR                    results directory (default <repo>/bench-results)
`;

export interface CliOptions {
  scenario: Scenario;
  targets: TargetName[];
  runs: number;
  pin: boolean;
  outDir: string;
  cpuProfile: boolean;
  waitQuietMs: number;
  retryNoisy: number;
  /** `--redis-cluster`: the cluster targets run on a local Redis Cluster. */
  redisCluster: boolean;
}

export function parseCli(argv: string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: "string", multiple: true },
      runs: { type: "string" },
      subscribers: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      workers: { type: "string" },
      pad: { type: "string" },
      burst: { type: "string" },
      "slow-every": { type: "string" },
      "churn-rate": { type: "string" },
      steps: { type: "string" },
      "step-duration": { type: "string" },
      "overload-rate": { type: "string" },
      "overload-duration": { type: "string" },
      "recovery-duration": { type: "string" },
      nodes: { type: "string" },
      "redis-cluster": { type: "boolean" },
      "idle-nodes": { type: "string" },
      rooms: { type: "string" },
      "room-size": { type: "string" },
      ingress: { type: "string" },
      levels: { type: "string" },
      "no-pin": { type: "boolean" },
      "cpu-prof": { type: "boolean" },
      "wait-quiet": { type: "string" },
      "retry-noisy": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const name = positionals[0];
  if (values.help || !name) throw new UsageError(USAGE);
  const number = (raw: string | undefined, fallback: number, what: string): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${what} must be a number ≥ 0, got "${raw}"`);
    return value;
  };
  const fanout = (defaults: FanoutParams): FanoutParams => {
    const ingress = values.ingress ?? defaults.ingress;
    if (ingress !== "native" && ingress !== "http") throw new UsageError(`--ingress must be native or http`);
    return {
      ...defaults,
      subscribers: number(values.subscribers, defaults.subscribers, "subscribers"),
      rate: number(values.rate, defaults.rate, "rate"),
      durationS: number(values.duration, defaults.durationS, "duration"),
      warmupS: number(values.warmup, defaults.warmupS, "warmup"),
      workers: number(values.workers, defaults.workers, "workers"),
      padBytes: number(values.pad, defaults.padBytes, "pad"),
      burst: number(values.burst, defaults.burst ?? 1, "burst") || 1,
      slowEvery: number(values["slow-every"], defaults.slowEvery ?? 0, "slow-every"),
      ingress,
    };
  };
  let scenario: Scenario;
  if (name === "s1") scenario = s1Scenario(fanout(S1_DEFAULTS));
  else if (name === "s2") scenario = s2Scenario(fanout(S2_DEFAULTS));
  else if (name === "s3") scenario = s3Scenario(fanout(S3_DEFAULTS));
  else if (name === "quick") scenario = quickScenario(fanout(QUICK_DEFAULTS));
  else if (name === "s4") scenario = s4Scenario(fanout(S4_DEFAULTS));
  else if (name === "s5")
    scenario = s5Scenario({
      ...S5_DEFAULTS,
      rooms: number(values.rooms, S5_DEFAULTS.rooms, "rooms") || 1,
      roomSize: number(values["room-size"], S5_DEFAULTS.roomSize, "room-size") || 1,
      rate: number(values.rate, S5_DEFAULTS.rate, "rate"),
      nodes: number(values.nodes, S5_DEFAULTS.nodes, "nodes") || 1,
      idleNodes: number(values["idle-nodes"], S5_DEFAULTS.idleNodes, "idle-nodes"),
      durationS: number(values.duration, S5_DEFAULTS.durationS, "duration"),
      warmupS: number(values.warmup, S5_DEFAULTS.warmupS, "warmup"),
      workers: number(values.workers, S5_DEFAULTS.workers, "workers"),
      padBytes: number(values.pad, S5_DEFAULTS.padBytes, "pad"),
    });
  else if (name === "s6")
    scenario = s6Scenario({
      ...S6_DEFAULTS,
      held: number(values.subscribers, S6_DEFAULTS.held, "subscribers"),
      rate: number(values.rate, S6_DEFAULTS.rate, "rate"),
      churnRate: number(values["churn-rate"], S6_DEFAULTS.churnRate, "churn-rate"),
      durationS: number(values.duration, S6_DEFAULTS.durationS, "duration"),
      warmupS: number(values.warmup, S6_DEFAULTS.warmupS, "warmup"),
      workers: number(values.workers, S6_DEFAULTS.workers, "workers"),
      ingress: values.ingress === "http" ? "http" : S6_DEFAULTS.ingress,
    });
  else if (name === "s7") scenario = s7Scenario(fanout(S7_DEFAULTS));
  else if (name === "knee" || name === "overload") {
    const { subscribers, workers, ingress, padBytes, warmupS } = fanout({
      ...S1_DEFAULTS,
      warmupS: (name === "knee" ? KNEE_DEFAULTS : OVERLOAD_DEFAULTS).warmupS,
    });
    const room = { subscribers, workers, ingress, padBytes, warmupS };
    if (name === "knee") {
      let steps = KNEE_DEFAULTS.steps;
      try {
        if (values.steps !== undefined) steps = parseSteps(values.steps);
      } catch (error) {
        throw new UsageError(`--${(error as Error).message}`);
      }
      const stepS = number(values["step-duration"], KNEE_DEFAULTS.stepS, "step-duration");
      if (!(stepS > warmupS)) throw new UsageError(`--step-duration must exceed --warmup (${warmupS} s)`);
      scenario = kneeScenario({ ...KNEE_DEFAULTS, ...room, steps, stepS });
    } else {
      const baselineS = number(values.duration, OVERLOAD_DEFAULTS.baselineS, "duration");
      if (!(baselineS > warmupS)) throw new UsageError(`--duration (the baseline) must exceed --warmup (${warmupS} s)`);
      scenario = overloadScenario({
        ...OVERLOAD_DEFAULTS,
        ...room,
        baselineRate: number(values.rate, OVERLOAD_DEFAULTS.baselineRate, "rate"),
        baselineS,
        overloadRate: number(values["overload-rate"], OVERLOAD_DEFAULTS.overloadRate, "overload-rate"),
        overloadS: number(values["overload-duration"], OVERLOAD_DEFAULTS.overloadS, "overload-duration"),
        recoveryS: number(values["recovery-duration"], OVERLOAD_DEFAULTS.recoveryS, "recovery-duration"),
      });
    }
  } else if (name === "s8") scenario = s8Scenario(fanout(S8_DEFAULTS));
  else if (name === "mem") {
    const levels = values.levels ? values.levels.split(",").map((v) => number(v, 0, "levels")) : MEMORY_DEFAULTS.levels;
    scenario = memoryScenario({
      ...MEMORY_DEFAULTS,
      levels,
      workers: number(values.workers, MEMORY_DEFAULTS.workers, "workers"),
    });
  } else throw new UsageError(`unknown scenario "${name}"\n\n${USAGE}`);

  // --nodes sizes the cluster targets of any scenario (S5 has already taken it as its own parameter).
  if (values.nodes !== undefined) scenario = { ...scenario, clusterNodes: number(values.nodes, 2, "nodes") || 1 };
  const known: readonly string[] = [...TARGET_NAMES, ...EXTRA_TARGET_NAMES];
  const targets = (values.target ?? [...(scenario.defaultTargets ?? TARGET_NAMES)])
    .flatMap((t) => t.split(","))
    .map((t) => t.trim());
  const unknown = targets.filter((t) => !known.includes(t));
  if (unknown.length > 0)
    throw new UsageError(`unknown target(s) ${unknown.join(", ")}; choose from ${known.join(", ")}`);
  const redisCluster = Boolean(values["redis-cluster"]);
  const single = targets.filter((t) => !(CLUSTER_TARGET_NAMES as readonly string[]).includes(t));
  if (redisCluster && single.length > 0)
    throw new UsageError(
      `--redis-cluster is for the cluster targets (${CLUSTER_TARGET_NAMES.join(", ")}), not ${single.join(", ")}`,
    );
  if (values["idle-nodes"] !== undefined && name !== "s5") throw new UsageError("--idle-nodes is an s5 option");
  return {
    scenario,
    targets: [...new Set(targets)] as TargetName[],
    runs: number(values.runs, name === "quick" ? 1 : 3, "runs") || 1,
    pin: !values["no-pin"],
    outDir: values.out ?? DEFAULT_RESULTS_DIR,
    cpuProfile: Boolean(values["cpu-prof"]),
    waitQuietMs: number(values["wait-quiet"], 0, "wait-quiet") * 1000,
    retryNoisy: number(values["retry-noisy"], 0, "retry-noisy"),
    redisCluster,
  };
}

export class UsageError extends Error {}
