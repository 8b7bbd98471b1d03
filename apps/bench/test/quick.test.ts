import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBench } from "../src/bench";
import { QUICK_DEFAULTS, quickScenario } from "../src/scenarios/quick";
import { TARGET_NAMES } from "../src/targets/target";

/**
 * The harness end to end against all four targets (servers, Redis and load workers are started and
 * stopped by it). Only delivery is asserted: timing on a shared CI machine proves nothing.
 * Needs the compiled bench (workers run as dist/*.js) and apps/realtime/dist.
 */
describe("bench quick scenario", () => {
  let outDir: string;

  beforeAll(() => {
    outDir = mkdtempSync(path.join(tmpdir(), "bench-quick-"));
  });

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it("delivers every event to every subscriber on every target", async () => {
    const result = await runBench({
      scenario: quickScenario(),
      targets: [...TARGET_NAMES],
      runs: 1,
      pin: false,
      outDir,
      log: () => undefined,
    });

    const events = QUICK_DEFAULTS.rate * QUICK_DEFAULTS.durationS;
    const outcome = result.records.map((r) => ({
      target: r.target,
      error: r.error,
      problems: r.problems,
      perSubscriber: [r.metrics.minPerSubscriber, r.metrics.maxPerSubscriber],
      delivered: r.metrics.delivered,
    }));
    expect(outcome).toEqual(
      TARGET_NAMES.map((target) => ({
        target,
        error: undefined,
        problems: [],
        perSubscriber: [events, events],
        delivered: events * QUICK_DEFAULTS.subscribers,
      })),
    );
  });
});
