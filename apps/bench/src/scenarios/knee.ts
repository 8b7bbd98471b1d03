import { nowUs } from "../load/clock";
import { runOpenLoop } from "../load/open-loop";
import { DEFAULT_PAD_BYTES } from "../load/payload";
import { rssBytes } from "../proc/proc-stats";
import type { RunningTarget } from "../targets/target";
import { ConnectedRoom, connectRoom, MAX_PENDING_PUBLISHES, RoomLoad } from "./connected-room";
import { CHANNEL, EVENT, waitForDeliveries } from "./fanout";
import { meterWindow } from "./window-cpu";
import { KNEE_P99_LIMIT_MS, KneeStep, kneeOf, stepFailures } from "./knee-steps";
import type { Column, Metrics, RunContext, RunOutput, Scenario } from "./scenario";

export interface KneeParams extends RoomLoad {
  /** Events per second of each step, rising. */
  steps: number[];
  /** Publishing time of one step, its warm-up included (s). */
  stepS: number;
  /** Start of each step excluded from its latency, throughput and CPU (s). */
  warmupS: number;
  padBytes: number;
  /** Longest wait for a step's stragglers (ms). */
  drainMs: number;
  p99LimitMs: number;
}

export const KNEE_DEFAULTS: KneeParams = {
  subscribers: 1000,
  workers: 2,
  ingress: "native",
  steps: [50, 100, 150, 200, 250, 300],
  stepS: 5,
  warmupS: 1,
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 5000,
  p99LimitMs: KNEE_P99_LIMIT_MS,
};

export const KNEE_COLUMNS: Column[] = [
  {
    key: "kneeDeliveredPerS",
    label: "knee delivered/s",
    doc: "highest delivered/s of a step with p99 ≤ 50 ms, 0 loss and every publish accepted (0: no step passed)",
    digits: 0,
  },
  { key: "kneeRate", label: "knee events/s", doc: "that step's rate into the room", digits: 0, missing: "none" },
  { key: "kneeP50Ms", label: "p50 at knee ms", doc: "latency from due time to arrival, that step", digits: 2 },
  { key: "kneeP99Ms", label: "p99 at knee ms", doc: "", digits: 2 },
  { key: "kneeCpuPct", label: "server CPU % at knee", doc: "server utime+stime over that step's window", digits: 0 },
  {
    key: "kneeCpuUsPerDelivery",
    label: "CPU µs/delivery at knee",
    doc: "server CPU / deliveries in that step's window",
    digits: 2,
  },
  {
    key: "failRate",
    label: "first failing step",
    doc: "events/s of the first step over 50 ms p99 or with loss / refused publishes (none: all passed)",
    digits: 0,
    missing: "none",
  },
  { key: "failP99Ms", label: "p99 there ms", doc: "that step's p99", digits: 1, missing: "—" },
  { key: "failDeliveredPerS", label: "delivered/s there", doc: "that step's delivered/s", digits: 0, missing: "—" },
  { key: "failLossPct", label: "loss % there", doc: "that step's loss", digits: 2, missing: "—" },
  {
    key: "genCpuPct",
    label: "gen CPU %",
    doc: "publisher + load workers, % of one core, highest over the steps run (> 70 %: the harness was the limit)",
    digits: 0,
  },
  { key: "otherCpuPct", label: "other CPU %", doc: "anything else on the machine, highest over the steps", digits: 0 },
];

/**
 * The knee (T2): S1's fan-out on one connected set of subscribers, at rising open-loop rates, one
 * step after the other (each drained before the next), until a step's p99 exceeds 50 ms or it loses
 * events. Per step: delivered/s, p50, p99, server CPU and CPU per delivery, warm-up excluded.
 */
export function kneeScenario(params: KneeParams): Scenario {
  return {
    name: "knee",
    title: `Knee: 1 room × ${params.subscribers} subscribers, steps of ${params.steps.join(", ")} events/s, ${params.stepS - params.warmupS} s measured per step after ${params.warmupS} s warm-up, until p99 > ${params.p99LimitMs} ms or loss`,
    params,
    columns: KNEE_COLUMNS,
    chart: {
      latency: ["kneeP50Ms", "kneeP99Ms"],
      throughput: "kneeDeliveredPerS",
      throughputLabel: "knee delivered/s",
    },
    memoryProbe: false,
    deadlineMs: (params.steps.length * (params.stepS + params.drainMs / 1000 + 3) + 60) * 1000,
    run: (target, context) => measureKnee(target, params, context),
  };
}

async function measureKnee(target: RunningTarget, params: KneeParams, context: RunContext): Promise<RunOutput> {
  const room = await connectRoom(target, params, context);
  try {
    const steps: KneeStep[] = [];
    for (const rate of params.steps) {
      const step = await measureStep(target, room, rate, params);
      steps.push(step);
      const failures = stepFailures(step, params.p99LimitMs);
      context.log(
        `  ${rate} events/s: ${step.deliveredPerS.toFixed(0)} delivered/s, p99 ${step.p99Ms.toFixed(1)} ms, CPU ${step.serverCpuPct.toFixed(0)} %, gen ${step.genCpuPct.toFixed(0)} %${failures.length ? ` ✗ ${failures.join(", ")}` : ""}`,
      );
      if (failures.length > 0) break;
    }
    const { knee, firstFailing } = kneeOf(steps, params.p99LimitMs);
    const metrics: Metrics = {
      subscribers: params.subscribers,
      stepsRun: steps.length,
      kneeDeliveredPerS: knee?.deliveredPerS ?? 0,
      kneeRate: knee?.rate ?? NaN,
      kneeP50Ms: knee?.p50Ms ?? NaN,
      kneeP99Ms: knee?.p99Ms ?? NaN,
      kneeCpuPct: knee?.serverCpuPct ?? NaN,
      kneeCpuUsPerDelivery: knee?.cpuUsPerDelivery ?? NaN,
      failRate: firstFailing?.rate ?? NaN,
      failP99Ms: firstFailing?.p99Ms ?? NaN,
      failDeliveredPerS: firstFailing?.deliveredPerS ?? NaN,
      failLossPct: firstFailing?.lossPct ?? NaN,
      genCpuPct: Math.max(...steps.map((s) => s.genCpuPct)),
      otherCpuPct: Math.max(...steps.map((s) => s.otherCpuPct)),
    };
    return { metrics, detail: { steps } };
  } finally {
    await room.close();
  }
}

/** One step: a fresh window on the workers, R events/s open loop for stepS, then its drain. */
async function measureStep(
  target: RunningTarget,
  { pool, sender }: ConnectedRoom,
  rate: number,
  params: KneeParams,
): Promise<KneeStep> {
  const t0Us = Math.round(nowUs()) + 200_000;
  const fromUs = t0Us + Math.round(params.warmupS * 1e6);
  const untilUs = t0Us + Math.round(params.stepS * 1e6);
  pool.arm({ t0Us, fromUs, untilUs, fresh: true });
  const window = meterWindow(target, [process.pid, ...pool.pids], fromUs, untilUs);
  const outcome = await runOpenLoop({
    send: sender.send,
    channel: CHANNEL,
    event: EVENT,
    rate,
    count: Math.round(rate * params.stepS),
    t0Us,
    padBytes: params.padBytes,
    maxInFlight: MAX_PENDING_PUBLISHES,
  });
  const { server: serverCpu, generator: generatorCpu, otherPct } = await window;
  const rss = target.serverPids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
  const expected = outcome.accepted * params.subscribers;
  await waitForDeliveries(pool, expected, params.drainMs);
  const report = await pool.collect();
  const windowS = params.stepS - params.warmupS;
  const loss = Math.max(0, expected - report.received);
  return {
    rate,
    published: outcome.published,
    accepted: outcome.accepted,
    rejected: outcome.rejected,
    skipped: outcome.skipped,
    loss,
    lossPct: expected > 0 ? (100 * loss) / expected : 0,
    deliveredPerS: report.windowReceived / windowS,
    p50Ms: report.latency.p50 / 1000,
    p99Ms: report.latency.p99 / 1000,
    maxMs: report.latency.max / 1000,
    serverCpuPct: serverCpu.percent,
    cpuUsPerDelivery: report.windowReceived > 0 ? serverCpu.cpuUs / report.windowReceived : 0,
    genCpuPct: generatorCpu.percent,
    otherCpuPct: otherPct,
    answerP99Ms: outcome.answer.p99 / 1000,
    rssMb: rss / 1e6,
  };
}
