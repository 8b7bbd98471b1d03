import { nowUs } from "../load/clock";
import { cpuMeter, machineMeter } from "../proc/proc-stats";
import { sleep } from "../targets/http-get";
import type { RunningTarget } from "../targets/target";

export type CpuReading = ReturnType<ReturnType<typeof cpuMeter>["read"]>;

export interface WindowCpu {
  server: CpuReading;
  /** The publisher (this process) and its load workers. */
  generator: CpuReading;
  /** What the target started besides its server (Redis, other nodes, nginx). */
  helpers: CpuReading;
  /** Everything else on the machine, % of one core: other people's jobs make a run noisy. */
  otherPct: number;
}

/**
 * The CPU every scenario reports for its measured window: the meters start when the warm-up ends
 * (`fromUs`) and are read when publishing ends (`untilUs`).
 */
export async function meterWindow(
  target: RunningTarget,
  generatorPids: number[],
  fromUs: number,
  untilUs: number,
): Promise<WindowCpu> {
  const meters = [cpuMeter(target.serverPids), cpuMeter(generatorPids), cpuMeter(target.helperPids), machineMeter()];
  await sleep(Math.max(0, (fromUs - nowUs()) / 1000));
  for (const meter of meters) meter.start();
  await sleep(Math.max(0, (untilUs - nowUs()) / 1000));
  const [server, generator, helpers, machine] = meters.map((meter) => meter.read());
  return {
    server,
    generator,
    helpers,
    otherPct: Math.max(0, machine.percent - server.percent - generator.percent - helpers.percent),
  };
}
