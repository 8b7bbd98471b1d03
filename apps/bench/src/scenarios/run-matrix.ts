import { serverCoreLoopMs } from "../proc/core-speed";
import { waitForQuietMachine } from "../proc/quiet-machine";
import { startTarget } from "../targets/start-target";
import type { RunningTarget, TargetName, TargetOptions } from "../targets/target";
import { noiseOf } from "./noise";
import type { RunContext, RunRecord, Scenario } from "./scenario";

export interface MatrixOptions {
  targets: TargetName[];
  runs: number;
  target: Omit<TargetOptions, "memoryProbe">;
  context: RunContext;
  /** Before each run, wait up to this long for the machine to go quiet (0: don't wait). */
  waitQuietMs: number;
  /** How often a noisy run (see noise.ts) is run again before its figures are kept anyway. */
  retryNoisy: number;
}

/**
 * Runs the scenario interleaved — A B C D, A B C D, … — with a fresh target each time, so that drift
 * in the machine lands on every target alike (PERFORMANCE.md: ratios within one run are what hold).
 * A failed run is recorded and the matrix goes on; a noisy one is retried up to `retryNoisy` times.
 */
export async function runMatrix(scenario: Scenario, options: MatrixOptions): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const speed = { best: Infinity };
  for (let i = 0; i < 3; i++) speed.best = Math.min(speed.best, await serverCoreLoopMs(options.target.pinning));
  for (let run = 1; run <= options.runs; run++) {
    for (const name of options.targets) {
      const discarded: RunRecord[] = [];
      for (;;) {
        if (options.waitQuietMs > 0) {
          const busy = await waitForQuietMachine(options.waitQuietMs);
          if (busy > 25)
            options.context.log(`  ! machine still ${busy.toFixed(0)} % busy (other jobs); running anyway`);
        }
        options.context.log(`${scenario.name} run ${run}/${options.runs}: ${name}`);
        const record = await runOnce(scenario, name, run, options, speed);
        if (!record.ok) options.context.log(`  ✗ ${record.error ?? record.problems.join("; ")}`);
        if (record.ok && record.noise.length > 0) {
          options.context.log(`  ~ noisy: ${record.noise.join(", ")}`);
          if (discarded.length < options.retryNoisy) {
            discarded.push(record);
            continue;
          }
        }
        records.push(discarded.length > 0 ? { ...record, discarded } : record);
        break;
      }
    }
  }
  return records;
}

async function runOnce(
  scenario: Scenario,
  name: TargetName,
  run: number,
  options: MatrixOptions,
  speed: { best: number },
): Promise<RunRecord> {
  let target: RunningTarget | undefined;
  let timer: NodeJS.Timeout | undefined;
  const before = await serverCoreLoopMs(options.target.pinning);
  try {
    target = await startTarget(name, {
      ...options.target,
      memoryProbe: scenario.memoryProbe,
      nodes: scenario.clusterNodes,
    });
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`run exceeded ${scenario.deadlineMs} ms`)), scenario.deadlineMs);
    });
    const output = await Promise.race([scenario.run(target, options.context), deadline]);
    clearTimeout(timer);
    await target.stop();
    target = undefined;
    const after = await serverCoreLoopMs(options.target.pinning);
    speed.best = Math.min(speed.best, before, after);
    const metrics = { ...output.metrics, coreLoopMsBefore: before, coreLoopMsAfter: after };
    const problems = scenario.verify?.(metrics) ?? [];
    return {
      target: name,
      run,
      ok: problems.length === 0,
      problems,
      noise: noiseOf(metrics, speed.best),
      ...output,
      metrics,
    };
  } catch (error) {
    return { target: name, run, ok: false, error: (error as Error).message, problems: [], noise: [], metrics: {} };
  } finally {
    clearTimeout(timer);
    await target?.stop();
  }
}
