import { ClientPool } from "../load/client-pool";
import { rssBytes } from "../proc/proc-stats";
import { sleep } from "../targets/http-get";
import type { HeapSample, RunningTarget } from "../targets/target";
import { CHANNEL } from "./fanout";
import type { Column, Metrics, RunContext, RunOutput, Scenario } from "./scenario";

export interface MemoryParams {
  /** Connection counts to measure at, ascending (each level adds to the previous one). */
  levels: number[];
  workers: number;
  /** Quiet time before each sample, so handshake garbage and buffers settle (ms). */
  settleMs: number;
}

export const MEMORY_DEFAULTS: MemoryParams = { levels: [1000, 5000], workers: 2, settleMs: 1500 };

/**
 * Memory per idle subscribed connection (T5): RSS and heap after a full GC at each level, minus the
 * same figures before the first connection. Heap comes from a GC probe preloaded into the server
 * (gc-probe.ts), identical for every target.
 */
export function memoryScenario(params: MemoryParams): Scenario {
  return {
    name: "mem",
    title: `Memory per idle subscribed connection at ${params.levels.join(" and ")} connections (after full GC)`,
    params,
    columns: params.levels.flatMap((level): Column[] => [
      {
        key: `rssMbPer1000At${level}`,
        label: `RSS MB/1000 @${level}`,
        doc: "(RSS − RSS before any connection) per 1000 connections",
        digits: 1,
      },
      {
        key: `heapKbPerConnAt${level}`,
        label: `heap KB/conn @${level}`,
        doc: "(heap used − heap before) per connection, both after GC",
        digits: 2,
      },
    ]),
    memoryProbe: true,
    deadlineMs: 120_000,
    run: (target, context) => measureMemory(target, params, context),
  };
}

async function measureMemory(target: RunningTarget, params: MemoryParams, context: RunContext): Promise<RunOutput> {
  const pool = ClientPool.start(
    { url: target.url, protocol: target.protocol, channel: CHANNEL, auth: target.auth },
    params.workers,
    context.cpuProfileDir,
  );
  try {
    await sleep(params.settleMs);
    const base = await sample(target);
    const metrics: Metrics = { baseRssMb: base.rssBytes / 1e6, baseHeapMb: base.heapUsedBytes / 1e6 };
    let connected = 0;
    for (const level of params.levels) {
      await pool.connect(level - connected, 60_000);
      connected = level;
      await target.waitForSubscribers(CHANNEL, level, 30_000);
      await sleep(params.settleMs);
      const now = await sample(target);
      metrics[`rssMbPer1000At${level}`] = ((now.rssBytes - base.rssBytes) / level) * (1000 / 1e6);
      metrics[`heapKbPerConnAt${level}`] = (now.heapUsedBytes - base.heapUsedBytes) / level / 1024;
      context.log(
        `  ${level} connections: RSS ${(now.rssBytes / 1e6).toFixed(1)} MB, heap ${(now.heapUsedBytes / 1e6).toFixed(1)} MB`,
      );
    }
    return { metrics };
  } finally {
    await pool.close();
  }
}

async function sample(target: RunningTarget): Promise<HeapSample> {
  if (target.heapAfterGc) return target.heapAfterGc();
  // Without the probe only RSS is known; heap figures then read as 0.
  const rss = target.serverPids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
  return { rssBytes: rss, heapUsedBytes: 0 };
}
