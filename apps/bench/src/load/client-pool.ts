import { fork, ChildProcess } from "node:child_process";
import { distScript } from "../paths";
import { exited, stopChild, track } from "../proc/children";
import { mergeHistograms, percentiles, Percentiles } from "./histogram";
import type {
  ChurnReport,
  ClientPlacement,
  ClientSpec,
  FromWorker,
  MeasureWindow,
  ToWorker,
  WorkerReport,
} from "./worker-messages";

/** The workers' reports merged: the counts summed, the histograms decoded into percentiles. */
export interface PoolReport extends Omit<
  WorkerReport,
  "type" | "bytes" | "latency" | "sendLatency" | "perSecondLatency"
> {
  avgPacketBytes: number;
  latency: Percentiles;
  sendLatency: Percentiles;
  /** With `perSecondHistograms` armed: latency percentiles (µs) of the events due in each second since t0. */
  perSecond?: Percentiles[];
}

/**
 * The load generator's subscribers, spread over forked worker processes (one core's worth of
 * clients may not keep up with 100k deliveries/s in one event loop).
 */
export class ClientPool {
  private opened = 0;

  private constructor(
    private readonly workers: ChildProcess[],
    private readonly spec: ClientSpec,
  ) {}

  static start(spec: ClientSpec, workerCount: number, cpuProfileDir?: string): ClientPool {
    const execArgv = cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [];
    const workers = Array.from({ length: Math.max(1, workerCount) }, () =>
      track(
        fork(distScript("load/client-worker.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv }),
      ),
    );
    return new ClientPool(workers, spec);
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.pid!);
  }

  /**
   * Opens `count` more subscribed clients, split evenly over the workers; throws if any failed.
   * With `placements` (S5: one per client, `count` of them), client i connects to `placements[i].url`
   * and subscribes to `placements[i].channel` instead of the spec's; workers get contiguous slices.
   */
  async connect(
    count: number,
    timeoutMs: number,
    concurrencyPerWorker = 50,
    placements?: ClientPlacement[],
  ): Promise<void> {
    if (placements && placements.length !== count)
      throw new Error(`${placements.length} placements for ${count} clients`);
    const shares = this.workers.map(
      (_, i) => Math.floor(count / this.workers.length) + (i < count % this.workers.length ? 1 : 0),
    );
    let firstUserId = this.opened + 1;
    let from = 0;
    const answers = await Promise.all(
      this.workers.map((worker, i) => {
        const share = shares[i];
        const message: ToWorker = {
          type: "connect",
          spec: this.spec,
          firstUserId,
          count: share,
          concurrency: concurrencyPerWorker,
          ...(placements ? { placements: placements.slice(from, from + share) } : {}),
        };
        firstUserId += share;
        from += share;
        return share === 0 ? Promise.resolve({ ready: 0, failed: 0 }) : ask(worker, message, "connected", timeoutMs);
      }),
    );
    this.opened += count;
    const failed = answers.reduce((sum, answer) => sum + answer.failed, 0);
    if (failed > 0) {
      const reason = answers.find((answer) => "firstError" in answer && answer.firstError);
      throw new Error(`${failed} of ${count} clients failed to subscribe (${JSON.stringify(reason)})`);
    }
  }

  arm(window: MeasureWindow): void {
    for (const worker of this.workers) worker.send({ type: "arm", window } satisfies ToWorker);
  }

  /** S6: runs the churn loop on the first worker and resolves with what it achieved. */
  churn(message: Extract<ToWorker, { type: "churn" }>, timeoutMs: number): Promise<ChurnReport> {
    return ask(this.workers[0], message, "churned", timeoutMs);
  }

  /** S7: the slow connections read again (see client-worker.ts). */
  resumeSlow(): void {
    for (const worker of this.workers) worker.send({ type: "resumeSlow" } satisfies ToWorker);
  }

  async received(): Promise<number> {
    const answers = await Promise.all(
      this.workers.map((worker) => ask(worker, { type: "progress" }, "progress", 5000)),
    );
    return answers.reduce((sum, answer) => sum + answer.received, 0);
  }

  async collect(): Promise<PoolReport> {
    const reports = await Promise.all(this.workers.map((worker) => ask(worker, { type: "collect" }, "report", 10_000)));
    return mergeReports(reports);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        // Asked first: a worker that exits by itself also writes its --cpu-prof profile.
        if (worker.connected) worker.send({ type: "close" } satisfies ToWorker);
        if (!(await exited(worker, 3000))) await stopChild(worker, 2000);
      }),
    );
  }
}

function ask<K extends FromWorker["type"]>(
  worker: ChildProcess,
  message: ToWorker,
  replyType: K,
  timeoutMs: number,
): Promise<Extract<FromWorker, { type: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: FromWorker): void => {
      if (reply.type !== replyType) return;
      finish();
      resolve(reply as Extract<FromWorker, { type: K }>);
    };
    const onExit = (): void => {
      finish();
      reject(new Error(`load worker ${worker.pid} exited`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`load worker ${worker.pid}: no "${replyType}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.once("exit", onExit);
    worker.send(message);
  });
}

function mergeReports(reports: WorkerReport[]): PoolReport {
  const sum = (key: keyof WorkerReport): number => reports.reduce((total, r) => total + (r[key] as number), 0);
  const withClients = reports.filter((r) => r.connections > 0);
  const worstPerSecond = (key: "perSecondMaxUs" | "perSecondMaxSendUs"): number[] => {
    const worst: number[] = [];
    for (const report of reports) {
      report[key].forEach((value, second) => {
        worst[second] = Math.max(worst[second] ?? 0, value);
      });
    }
    return Array.from(worst, (value) => value ?? 0);
  };
  const received = sum("received");
  const seconds = Math.max(0, ...reports.map((r) => r.perSecondLatency?.length ?? -1));
  const perSecond = Array.from({ length: seconds }, (_, second) =>
    percentiles(mergeHistograms(reports.map((r) => r.perSecondLatency?.[second] ?? "").filter(Boolean))),
  );
  return {
    connections: sum("connections"),
    received,
    windowReceived: sum("windowReceived"),
    minPerConnection: Math.min(...withClients.map((r) => r.minPerConnection)),
    maxPerConnection: Math.max(...withClients.map((r) => r.maxPerConnection)),
    outOfOrder: sum("outOfOrder"),
    dropped: sum("dropped"),
    slowConnections: sum("slowConnections"),
    slowClosed: sum("slowClosed"),
    avgPacketBytes: received > 0 ? sum("bytes") / received : 0,
    latency: percentiles(mergeHistograms(reports.map((r) => r.latency))),
    sendLatency: percentiles(mergeHistograms(reports.map((r) => r.sendLatency))),
    perSecondMaxUs: worstPerSecond("perSecondMaxUs"),
    perSecondMaxSendUs: worstPerSecond("perSecondMaxSendUs"),
    ...(reports.some((r) => r.perSecondLatency) ? { perSecond } : {}),
  };
}
