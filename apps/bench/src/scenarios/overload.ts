import { nowUs } from "../load/clock";
import { runOpenLoop } from "../load/open-loop";
import { DEFAULT_PAD_BYTES } from "../load/payload";
import { phasedSchedule } from "../load/schedule";
import { peakBetween, rssTimeline } from "../proc/rss-timeline";
import { serverAlive } from "../proc/server-alive";
import type { RunningTarget } from "../targets/target";
import { connectRoom, MAX_PENDING_PUBLISHES, RoomLoad } from "./connected-room";
import { CHANNEL, EVENT, waitForDeliveries } from "./fanout";
import { meterWindow } from "./window-cpu";
import { outcomeTally, RECOVERY_P99_LIMIT_MS, recoverySeconds } from "./overload-verdict";
import type { Column, Metrics, RunContext, RunOutput, Scenario } from "./scenario";

export interface OverloadParams extends RoomLoad {
  /** Events/s before and after the overload. */
  baselineRate: number;
  baselineS: number;
  /** Start of the baseline excluded from its p99 (s). */
  warmupS: number;
  /** Events/s during the overload: default 2× the brief's socket.io knee (150 events/s × 1000). */
  overloadRate: number;
  overloadS: number;
  recoveryS: number;
  padBytes: number;
  /** Longest wait for stragglers after the recovery phase (ms). */
  drainMs: number;
  recoveryP99LimitMs: number;
}

export const OVERLOAD_DEFAULTS: OverloadParams = {
  subscribers: 1000,
  workers: 2,
  ingress: "native",
  baselineRate: 20,
  baselineS: 6,
  warmupS: 2,
  overloadRate: 300,
  overloadS: 8,
  recoveryS: 10,
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 5000,
  recoveryP99LimitMs: RECOVERY_P99_LIMIT_MS,
};

export const OVERLOAD_COLUMNS: Column[] = [
  {
    key: "baselineRssMb",
    label: "baseline RSS MB",
    doc: "server RSS with every subscriber connected, highest sample (every 200 ms) of the baseline phase",
    digits: 0,
  },
  {
    key: "peakRssMb",
    label: "peak RSS MB",
    doc: "highest RSS sample from the start of the overload to the end of the drain",
    digits: 0,
  },
  { key: "rssRatio", label: "peak/baseline ×", doc: "T6: ≤ 2", digits: 2 },
  {
    key: "survived",
    label: "survived",
    doc: "1: every server process still running and answering HTTP after the drain (ours: /health/live 2xx); 0: crashed or hung (JSON: running, answering)",
    digits: 0,
  },
  { key: "accepted", label: "accepted", doc: "events the target accepted (2xx / PUBLISH done), all phases", digits: 0 },
  {
    key: "overloadRefused",
    label: "refused (overload)",
    doc: "publishes of overload events answered non-2xx or failed (error, 10 s timeout): pushing back is legitimate",
    digits: 0,
  },
  {
    key: "overloadNotSent",
    label: "not sent (overload)",
    doc: `overload events never sent: ${MAX_PENDING_PUBLISHES} publishes were already pending (the publisher's bound)`,
    digits: 0,
  },
  {
    key: "lossPct",
    label: "loss % (accepted)",
    doc: "accepted events × subscribers not received by the end of the drain",
    digits: 2,
  },
  {
    key: "overloadDeliveredPerS",
    label: "overload delivered/s",
    doc: "deliveries of the events due in the overload phase (late ones included) / its duration",
    digits: 0,
  },
  {
    key: "baselineP99Ms",
    label: "baseline p99 ms",
    doc: "p99 of the baseline phase after its warm-up, for reference: recovery means under 15 ms again",
    digits: 2,
  },
  {
    key: "worstP99Ms",
    label: "worst p99/s ms",
    doc: "highest per-second p99 (events due in that second) from the overload to the end",
    digits: 0,
  },
  {
    key: "recoveryS",
    label: "recovery s",
    doc: "seconds from the end of the overload until the per-second p99 is ≤ 15 ms and stays so to the end of the recovery phase (1 s resolution, upper bound)",
    digits: 0,
    missing: "not recovered",
  },
  { key: "serverCpuPct", label: "server CPU %", doc: "server utime+stime during the overload phase", digits: 0 },
  {
    key: "genCpuPct",
    label: "gen CPU %",
    doc: "publisher + load workers during the overload phase (> 70 %: the harness, not the server, set the pace)",
    digits: 0,
  },
  { key: "otherCpuPct", label: "other CPU %", doc: "anything else on the machine during the overload", digits: 0 },
];

/**
 * Overload (T6): one connected set of S1's subscribers; a baseline rate, `overloadRate` for
 * `overloadS` seconds, then the baseline rate again. Server RSS is sampled every 200 ms throughout;
 * the per-second p99 says when latency is back under T1's 15 ms.
 */
export function overloadScenario(params: OverloadParams): Scenario {
  const deliveries = (rate: number): number => rate * params.subscribers;
  return {
    name: "overload",
    title: `Overload: 1 room × ${params.subscribers} subscribers, ${params.baselineRate} events/s (${deliveries(params.baselineRate)} deliveries/s) for ${params.baselineS} s, ${params.overloadRate} events/s (${deliveries(params.overloadRate)}/s) for ${params.overloadS} s, ${params.baselineRate} events/s for ${params.recoveryS} s`,
    params,
    columns: OVERLOAD_COLUMNS,
    chart: { latency: ["baselineP99Ms", "worstP99Ms"], throughput: "peakRssMb", throughputLabel: "peak RSS MB" },
    memoryProbe: false,
    deadlineMs: (params.baselineS + params.overloadS + params.recoveryS + params.drainMs / 1000 + 70) * 1000,
    run: (target, context) => measureOverload(target, params, context),
  };
}

async function measureOverload(target: RunningTarget, params: OverloadParams, context: RunContext): Promise<RunOutput> {
  const room = await connectRoom(target, params, context);
  try {
    const { pool, sender } = room;
    const t0Us = Math.round(nowUs()) + 200_000;
    const schedule = phasedSchedule(t0Us, [
      { name: "baseline", rate: params.baselineRate, durationS: params.baselineS },
      { name: "overload", rate: params.overloadRate, durationS: params.overloadS },
      { name: "recovery", rate: params.baselineRate, durationS: params.recoveryS },
    ]);
    const [, overloadFromUs, overloadUntilUs] = schedule.boundsUs;
    // The worker's window is the baseline after its warm-up: its histogram is the baseline p99.
    pool.arm({
      t0Us,
      fromUs: t0Us + Math.round(params.warmupS * 1e6),
      untilUs: overloadFromUs,
      perSecondHistograms: true,
    });
    const rss = rssTimeline(target.serverPids, 200);
    const window = meterWindow(target, [process.pid, ...pool.pids], overloadFromUs, overloadUntilUs);
    const tally = outcomeTally(3, schedule.phaseOf);
    const outcome = await runOpenLoop({
      send: sender.send,
      channel: CHANNEL,
      event: EVENT,
      schedule,
      padBytes: params.padBytes,
      maxInFlight: MAX_PENDING_PUBLISHES,
      onOutcome: tally.record,
    });
    const { server: serverCpu, generator: generatorCpu, helpers: helperCpu, otherPct } = await window;
    const expected = outcome.accepted * params.subscribers;
    await waitForDeliveries(pool, expected, params.drainMs);
    const samples = rss.stop();
    const alive = await serverAlive(target);
    const survived = alive.running && alive.answering;
    const report = await pool.collect();

    const toS = (us: number): number => (us - t0Us) / 1e6;
    const perSecond = report.perSecond ?? [];
    const perSecondP99Ms = perSecond.map((p) => (p.count > 0 ? p.p99 / 1000 : undefined));
    const recovery = recoverySeconds(
      perSecondP99Ms,
      toS(overloadUntilUs),
      toS(schedule.boundsUs[3]),
      params.recoveryP99LimitMs,
    );
    const fromOverload = perSecondP99Ms.slice(Math.floor(toS(overloadFromUs)));
    const overloadDelivered = perSecond
      .slice(Math.floor(toS(overloadFromUs)), Math.ceil(toS(overloadUntilUs)))
      .reduce((sum, p) => sum + p.count, 0);
    const baselineRss = peakBetween(samples, t0Us, overloadFromUs);
    const peakRss = peakBetween(samples, overloadFromUs, Infinity);
    const [baselineTally, overloadTally, recoveryTally] = tally.tallies;
    const loss = Math.max(0, expected - report.received);
    const metrics: Metrics = {
      subscribers: params.subscribers,
      baselineRssMb: baselineRss / 1e6,
      peakRssMb: peakRss / 1e6,
      rssRatio: baselineRss > 0 ? peakRss / baselineRss : NaN,
      survived: survived ? 1 : 0,
      running: alive.running ? 1 : 0,
      answering: alive.answering ? 1 : 0,
      published: outcome.published,
      accepted: outcome.accepted,
      refused: outcome.rejected,
      notSent: outcome.skipped,
      overloadRefused: overloadTally.rejected,
      overloadNotSent: overloadTally.skipped,
      expected,
      delivered: report.received,
      loss,
      lossPct: expected > 0 ? (100 * loss) / expected : 0,
      // Deliveries beyond accepted × subscribers: events whose publish failed (e.g. timed out) yet went out.
      unexpected: Math.max(0, report.received - expected),
      outOfOrder: report.outOfOrder,
      dropped: report.dropped,
      overloadDeliveredPerS: overloadDelivered / params.overloadS,
      baselineP50Ms: report.latency.p50 / 1000,
      baselineP99Ms: report.latency.p99 / 1000,
      worstP99Ms: Math.max(0, ...fromOverload.map((p99) => p99 ?? 0)),
      recovered: recovery === undefined ? 0 : 1,
      recoveryS: recovery ?? NaN,
      serverCpuPct: serverCpu.percent,
      genCpuPct: generatorCpu.percent,
      helperCpuPct: helperCpu.percent,
      otherCpuPct: otherPct,
      maxSendLagMs: outcome.maxSendLagUs / 1000,
      answerP99Ms: outcome.answer.p99 / 1000,
    };
    context.log(
      `  RSS ${metrics.baselineRssMb.toFixed(0)} → ${metrics.peakRssMb.toFixed(0)} MB, ${survived ? "alive" : alive.running ? "running but not answering HTTP" : "crashed"}, refused ${overloadTally.rejected}, not sent ${overloadTally.skipped}, loss ${loss}, recovery ${recovery === undefined ? "none" : `${recovery} s`}`,
    );
    return {
      metrics,
      detail: {
        phases: schedule.phases.map((phase, i) => ({
          ...phase,
          fromS: toS(schedule.boundsUs[i]),
          untilS: toS(schedule.boundsUs[i + 1]),
          ...[baselineTally, overloadTally, recoveryTally][i],
        })),
        perSecondP99Ms: perSecondP99Ms.map((p99) => p99 ?? null),
        perSecondDeliveries: perSecond.map((p) => p.count),
        worstLatencyPerSecondMs: report.perSecondMaxUs.map((us) => us / 1000),
        rssMb: samples.map((s) => ({ atS: Number(toS(s.atUs).toFixed(2)), mb: Number((s.bytes / 1e6).toFixed(1)) })),
      },
    };
  } finally {
    await room.close();
  }
}
