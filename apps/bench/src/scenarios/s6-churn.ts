import { ClientPool } from "../load/client-pool";
import { nowUs } from "../load/clock";
import { mergeHistograms, percentiles } from "../load/histogram";
import { createSender } from "../load/ingress-sender";
import { runOpenLoop } from "../load/open-loop";
import { DEFAULT_PAD_BYTES } from "../load/payload";
import { rssBytes } from "../proc/proc-stats";
import type { RunningTarget } from "../targets/target";
import { CHANNEL, EVENT, GENERATOR_LIMIT_PCT, rssPeakSampler, waitForDeliveries } from "./fanout";
import { meterWindow } from "./window-cpu";
import type { Column, Metrics, RunContext, RunOutput, Scenario } from "./scenario";

export interface ChurnParams {
  /** Subscribers held for the whole run. */
  held: number;
  /** Events per second to the held subscribers' room. */
  rate: number;
  /** Connect + subscribe + disconnect per second, during the measured window only. */
  churnRate: number;
  durationS: number;
  warmupS: number;
  workers: number;
  ingress: "native" | "http";
  drainMs: number;
}

export const S6_DEFAULTS: ChurnParams = {
  held: 1000,
  rate: 20,
  churnRate: 200,
  durationS: 12,
  warmupS: 2,
  workers: 2,
  ingress: "native",
  drainMs: 5000,
};

export const S6_COLUMNS: Column[] = [
  { key: "connectsPerS", label: "connects/s", doc: "churn connections subscribed per second of the window", digits: 0 },
  { key: "churnFailed", label: "failed", doc: "churn connections refused or not subscribed within 10 s", digits: 0 },
  {
    key: "handshakeP50Ms",
    label: "handshake p50 ms",
    doc: "from a connect's due time (open loop) to its subscribe ack (echo: CONNECT; ws: upgrade)",
    digits: 2,
  },
  { key: "handshakeP99Ms", label: "handshake p99 ms", doc: "", digits: 2 },
  { key: "handshakeMaxMs", label: "handshake max ms", doc: "", digits: 1 },
  {
    key: "cpuUsPerConnect",
    label: "CPU µs/connect",
    doc: "server CPU over the window / churn connections completed (the held room's fan-out included)",
    digits: 0,
  },
  { key: "serverCpuPct", label: "server CPU %", doc: "server process utime+stime over the window", digits: 0 },
  { key: "heldLossPct", label: "held loss %", doc: "events × held subscribers not received", digits: 2 },
  { key: "heldP99Ms", label: "held p99 ms", doc: "latency of the held subscribers' events", digits: 2 },
  { key: "serverRssMb", label: "RSS MB", doc: "server resident memory at the end of the window", digits: 0 },
  { key: "peakRssMb", label: "peak RSS MB", doc: "highest RSS sampled every 200 ms during the run", digits: 0 },
  { key: "genCpuPct", label: "gen CPU %", doc: "publisher + load workers + churn worker", digits: 0 },
  { key: "otherCpuPct", label: "other CPU %", doc: "anything else on the machine (noise)", digits: 0 },
];

/**
 * S6 (issue 5, T10): connection churn — `churnRate` connect + subscribe + disconnect per second
 * (open loop, one extra load worker) on top of `held` subscribed connections receiving `rate` events/s.
 */
export function s6Scenario(params: ChurnParams): Scenario {
  return {
    name: "s6",
    title: `S6 connection churn: ${params.churnRate} connect+subscribe+disconnect/s over ${params.held} held subscribers receiving ${params.rate} events/s, ${params.durationS - params.warmupS} s measured after ${params.warmupS} s warm-up`,
    params,
    columns: S6_COLUMNS,
    chart: {
      latency: ["handshakeP50Ms", "handshakeP99Ms"],
      throughput: "connectsPerS",
      throughputLabel: "connects/s",
    },
    memoryProbe: false,
    deadlineMs: (params.durationS + 70) * 1000,
    run: (target, context) => measureChurn(target, params, context),
  };
}

async function measureChurn(target: RunningTarget, params: ChurnParams, context: RunContext): Promise<RunOutput> {
  const spec = { url: target.url, protocol: target.protocol, channel: CHANNEL, auth: target.auth };
  const pool = ClientPool.start(spec, params.workers, context.cpuProfileDir);
  const churner = ClientPool.start(spec, 1, context.cpuProfileDir);
  const sender = await createSender(params.ingress === "http" ? target.httpIngress : target.ingress);
  try {
    await pool.connect(params.held, 30_000);
    await target.waitForSubscribers(CHANNEL, params.held, 15_000);
    const t0Us = Math.round(nowUs()) + 200_000;
    const fromUs = t0Us + Math.round(params.warmupS * 1e6);
    const untilUs = t0Us + Math.round(params.durationS * 1e6);
    pool.arm({ t0Us, fromUs, untilUs });
    const peakRss = rssPeakSampler(target.serverPids);
    const window = meterWindow(target, [process.pid, ...pool.pids, ...churner.pids], fromUs, untilUs);
    const churn = churner.churn(
      { type: "churn", spec, firstUserId: 1_000_000, rate: params.churnRate, startUs: fromUs, untilUs },
      (params.durationS + 30) * 1000,
    );
    const outcome = await runOpenLoop({
      send: sender.send,
      channel: CHANNEL,
      event: EVENT,
      rate: params.rate,
      count: Math.round(params.rate * params.durationS),
      t0Us,
      padBytes: DEFAULT_PAD_BYTES,
    });
    const { server: serverCpu, generator: generatorCpu, helpers: helperCpu, otherPct } = await window;
    const rss = target.serverPids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
    const churned = await churn;
    const expected = outcome.accepted * params.held;
    await waitForDeliveries(pool, expected, params.drainMs);
    const report = await pool.collect();
    const peakRssBytes = peakRss.stop();

    const windowS = params.durationS - params.warmupS;
    const handshake = percentiles(mergeHistograms([churned.handshake]));
    const ms = (us: number): number => us / 1000;
    if (churned.failed > 0) context.log(`  ! ${churned.failed} churn connections failed: ${churned.firstError}`);
    if (generatorCpu.percent > GENERATOR_LIMIT_PCT) {
      context.log(`  ! load generator at ${generatorCpu.percent.toFixed(0)} % of its core`);
    }
    const metrics: Metrics = {
      subscribers: report.connections,
      churnStarted: churned.started,
      churnCompleted: churned.completed,
      churnFailed: churned.failed,
      connectsPerS: churned.completed / windowS,
      handshakeP50Ms: ms(handshake.p50),
      handshakeP99Ms: ms(handshake.p99),
      handshakeMaxMs: ms(handshake.max),
      cpuUsPerConnect: churned.completed > 0 ? serverCpu.cpuUs / churned.completed : 0,
      serverCpuPct: serverCpu.percent,
      heldLossPct: expected > 0 ? (100 * Math.max(0, expected - report.received)) / expected : 0,
      heldP99Ms: ms(report.latency.p99),
      dropped: report.dropped,
      serverRssMb: rss / 1e6,
      peakRssMb: peakRssBytes / 1e6,
      genCpuPct: generatorCpu.percent,
      helperCpuPct: helperCpu.percent,
      otherCpuPct: otherPct,
    };
    return { metrics };
  } finally {
    await sender.close();
    await churner.close();
    await pool.close();
  }
}
