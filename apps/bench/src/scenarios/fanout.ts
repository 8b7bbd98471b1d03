import { ClientPool, PoolReport } from "../load/client-pool";
import { nowUs } from "../load/clock";
import { createSender } from "../load/ingress-sender";
import { OpenLoopOutcome, runOpenLoop } from "../load/open-loop";
import { rssBytes } from "../proc/proc-stats";
import { sleep } from "../targets/http-get";
import type { RunningTarget } from "../targets/target";
import type { Column, Metrics, RunContext, RunOutput } from "./scenario";
import { meterWindow } from "./window-cpu";

export interface FanoutParams {
  subscribers: number;
  /** Events per second into the one room. */
  rate: number;
  /** Publishing time, warm-up included (s). */
  durationS: number;
  warmupS: number;
  workers: number;
  /** `native`: each target's usual way in (Redis for echo); `http`: everyone over HTTP. */
  ingress: "native" | "http";
  padBytes: number;
  /** Longest wait for stragglers after the last event (ms). */
  drainMs: number;
  /** Events per burst, sent back to back (S2: 20); default 1, evenly spaced. */
  burst?: number;
  /** S7: every n-th subscriber stops reading when the warm-up ends (20: 5 %); 0 or absent: none. */
  slowEvery?: number;
}

export const CHANNEL = "bench.room1";
export const EVENT = "bench";

/** Generator above this share of its core measures itself, not the server (PERFORMANCE.md, method 1). */
export const GENERATOR_LIMIT_PCT = 70;

/**
 * One fan-out run: subscribe N clients to one room, publish R events/s open-loop for the duration,
 * measure from the end of the warm-up, wait for stragglers, collect.
 */
export async function measureFanout(
  target: RunningTarget,
  params: FanoutParams,
  context: RunContext,
): Promise<RunOutput> {
  const pool = ClientPool.start(
    { url: target.url, protocol: target.protocol, channel: CHANNEL, auth: target.auth },
    params.workers,
    context.cpuProfileDir,
  );
  const sender = await createSender(params.ingress === "http" ? target.httpIngress : target.ingress);
  try {
    await pool.connect(params.subscribers, 30_000);
    await target.waitForSubscribers(CHANNEL, params.subscribers, 15_000);
    const count = Math.round(params.rate * params.durationS);
    // A little lead so every worker is armed before event 0 is due.
    const t0Us = Math.round(nowUs()) + 200_000;
    const fromUs = t0Us + Math.round(params.warmupS * 1e6);
    const untilUs = t0Us + Math.round(params.durationS * 1e6);
    pool.arm({ t0Us, fromUs, untilUs, slowEvery: params.slowEvery });
    const peakRss = rssPeakSampler(target.serverPids);

    const window = meterWindow(target, [process.pid, ...pool.pids], fromUs, untilUs);
    const outcome = await runOpenLoop({
      send: sender.send,
      channel: CHANNEL,
      event: EVENT,
      rate: params.rate,
      count,
      t0Us,
      padBytes: params.padBytes,
      burst: params.burst,
    });
    const { server: serverCpu, generator: generatorCpu, helpers: helperCpu, otherPct } = await window;
    const rss = target.serverPids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);

    const slowCount = slowConnections(params.subscribers, params.workers, params.slowEvery ?? 0);
    const healthy = params.subscribers - slowCount;
    const expected = outcome.accepted * healthy;
    await waitForDeliveries(pool, expected, params.drainMs);
    const peakRssBytes = peakRss.stop();
    if (slowCount > 0) {
      // A connection the server cut only shows it once read again (a paused socket sees no FIN/RST).
      pool.resumeSlow();
      await sleep(SLOW_SETTLE_MS);
    }
    const report = await pool.collect();

    const windowS = params.durationS - params.warmupS;
    const eventsInWindow = Math.round(params.rate * windowS);
    const ms = (us: number): number => us / 1000;
    const metrics: Metrics = {
      ...deliveryFigures(report, outcome, expected, windowS),
      sendP50Ms: ms(report.sendLatency.p50),
      sendP99Ms: ms(report.sendLatency.p99),
      serverCpuPct: serverCpu.percent,
      cpuUsPerDelivery: report.windowReceived > 0 ? serverCpu.cpuUs / report.windowReceived : 0,
      cpuUsPerCall: eventsInWindow > 0 ? serverCpu.cpuUs / eventsInWindow : 0,
      serverRssMb: rss / 1e6,
      genCpuPct: generatorCpu.percent,
      helperCpuPct: helperCpu.percent,
      otherCpuPct: otherPct,
      packetBytes: report.avgPacketBytes,
      maxSendLagMs: ms(outcome.maxSendLagUs),
      answerP50Ms: ms(outcome.answer.p50),
      answerP99Ms: ms(outcome.answer.p99),
      peakRssMb: peakRssBytes / 1e6,
      slowClients: report.slowConnections,
      slowCut: report.slowClosed,
    };
    if (generatorCpu.percent > GENERATOR_LIMIT_PCT) {
      context.log(
        `  ! load generator at ${generatorCpu.percent.toFixed(0)} % of its core: this run measures the harness`,
      );
    }
    return {
      metrics,
      detail: {
        worstLatencyPerSecondMs: report.perSecondMaxUs.map(ms),
        worstFromSendPerSecondMs: report.perSecondMaxSendUs.map(ms),
      },
    };
  } finally {
    await sender.close();
    await pool.close();
  }
}

/** S7: how long the resumed slow connections get to see the close of a cut connection. */
const SLOW_SETTLE_MS = 3000;

/** How many connections the workers pause with `slowEvery` (index % slowEvery === 0 per worker). */
export function slowConnections(subscribers: number, workers: number, slowEvery: number): number {
  if (!(slowEvery > 0)) return 0;
  const count = Math.max(1, workers);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const share = Math.floor(subscribers / count) + (i < subscribers % count ? 1 : 0);
    total += Math.ceil(share / slowEvery);
  }
  return total;
}

/** Samples the server's RSS every 200 ms until stopped; returns the highest sum seen. */
export function rssPeakSampler(pids: number[]): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(
      peak,
      pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0),
    );
  };
  sample();
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** What every fan-out-shaped run reports of its deliveries: counts, loss, order, rate and latency. */
export function deliveryFigures(
  report: PoolReport,
  outcome: OpenLoopOutcome,
  expected: number,
  windowS: number,
): Metrics {
  const ms = (us: number): number => us / 1000;
  return {
    subscribers: report.connections,
    published: outcome.published,
    accepted: outcome.accepted,
    expected,
    delivered: report.received,
    loss: Math.max(0, expected - report.received),
    lossPct: expected > 0 ? (100 * Math.max(0, expected - report.received)) / expected : 0,
    outOfOrder: report.outOfOrder,
    dropped: report.dropped,
    minPerSubscriber: report.minPerConnection,
    maxPerSubscriber: report.maxPerConnection,
    deliveredPerS: report.windowReceived / windowS,
    p50Ms: ms(report.latency.p50),
    p90Ms: ms(report.latency.p90),
    p99Ms: ms(report.latency.p99),
    p999Ms: ms(report.latency.p999),
    maxMs: ms(report.latency.max),
  };
}

/** Waits until every expected delivery arrived, or nothing new arrived for a while. */
export async function waitForDeliveries(pool: ClientPool, expected: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let stalledSince = Date.now();
  while (Date.now() < deadline) {
    const received = await pool.received();
    if (received >= expected) return;
    if (received !== last) stalledSince = Date.now();
    else if (Date.now() - stalledSince > 1000) return;
    last = received;
    await sleep(100);
  }
}

/** The columns of every fan-out style table, in order. */
export const FANOUT_COLUMNS: Column[] = [
  {
    key: "deliveredPerS",
    label: "delivered/s",
    doc: "deliveries per second inside the measured window (warm-up excluded)",
    digits: 0,
  },
  {
    key: "lossPct",
    label: "loss %",
    doc: "accepted events × subscribers not received by the end of the drain",
    digits: 2,
  },
  { key: "p50Ms", label: "p50 ms", doc: "latency from the event's due time to its arrival at a subscriber", digits: 2 },
  { key: "p90Ms", label: "p90 ms", doc: "", digits: 2 },
  { key: "p99Ms", label: "p99 ms", doc: "", digits: 2 },
  { key: "p999Ms", label: "p99.9 ms", doc: "", digits: 1 },
  { key: "maxMs", label: "max ms", doc: "", digits: 1 },
  {
    key: "serverCpuPct",
    label: "server CPU %",
    doc: "server process utime+stime over the window, % of one core",
    digits: 0,
  },
  { key: "cpuUsPerDelivery", label: "CPU µs/delivery", doc: "server CPU time / deliveries in the window", digits: 2 },
  { key: "serverRssMb", label: "RSS MB", doc: "server resident memory at the end of the window", digits: 0 },
  {
    key: "genCpuPct",
    label: "gen CPU %",
    doc: "publisher + load workers, % of one core; > 70 % is flagged",
    digits: 0,
  },
  {
    key: "answerP99Ms",
    label: "answer p99 ms",
    doc: "publish → 2xx (Redis: PUBLISH reply): high when the server is saturated, low when the generator is",
    digits: 1,
  },
  {
    key: "otherCpuPct",
    label: "other CPU %",
    doc: "CPU used by anything else on the machine during the window (% of one core): noise",
    digits: 0,
  },
  { key: "packetBytes", label: "packet B", doc: "average size of one received packet (Socket.IO text)", digits: 0 },
];
