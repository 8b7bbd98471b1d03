import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { phasedSchedule } from "../src/load/schedule";
import { runBench } from "../src/bench";
import { KneeStep, kneeOf, parseSteps, stepFailures } from "../src/scenarios/knee-steps";
import { OVERLOAD_DEFAULTS, overloadScenario } from "../src/scenarios/overload";
import { outcomeTally, recoverySeconds } from "../src/scenarios/overload-verdict";

describe("phased open-loop schedule", () => {
  const schedule = phasedSchedule(1_000_000, [
    { name: "baseline", rate: 10, durationS: 2 },
    { name: "overload", rate: 100, durationS: 1 },
    { name: "recovery", rate: 10, durationS: 1.5 },
  ]);

  it("counts each phase's events and places them from the phase's own start", () => {
    expect(schedule.count).toBe(20 + 100 + 15);
    expect(schedule.firstEvent).toEqual([0, 20, 120, 135]);
    expect(schedule.boundsUs).toEqual([1_000_000, 3_000_000, 4_000_000, 5_500_000]);
    expect([0, 19, 20, 119, 120, 134].map((i) => schedule.phaseOf(i))).toEqual([0, 0, 1, 1, 2, 2]);
    expect([0, 1, 19, 20, 21, 119, 120, 134].map((i) => schedule.dueAt(i))).toEqual([
      1_000_000, 1_100_000, 2_900_000, 3_000_000, 3_010_000, 3_990_000, 4_000_000, 5_400_000,
    ]);
  });

  it("tallies outcomes by phase", () => {
    const tally = outcomeTally(3, schedule.phaseOf);
    tally.record(0, "accepted");
    tally.record(25, "rejected");
    tally.record(26, "skipped");
    tally.record(130, "accepted");
    expect(tally.tallies).toEqual([
      { accepted: 1, rejected: 0, skipped: 0 },
      { accepted: 0, rejected: 1, skipped: 1 },
      { accepted: 1, rejected: 0, skipped: 0 },
    ]);
  });
});

describe("knee verdict", () => {
  const step = (rate: number, p99Ms: number, loss = 0): KneeStep => ({
    rate,
    published: rate,
    accepted: rate,
    rejected: 0,
    skipped: 0,
    loss,
    lossPct: 0,
    deliveredPerS: rate * 1000,
    p50Ms: 1,
    p99Ms,
    maxMs: p99Ms,
    serverCpuPct: 50,
    cpuUsPerDelivery: 5,
    genCpuPct: 30,
    otherCpuPct: 0,
    answerP99Ms: 1,
    rssMb: 60,
  });

  it("takes the last passing step before the first failing one", () => {
    const steps = [step(50, 10), step(100, 30), step(150, 80), step(200, 20)];
    const verdict = kneeOf(steps);
    expect(verdict.knee?.rate).toBe(100);
    expect(verdict.firstFailing?.rate).toBe(150);
  });

  it("fails a step on loss, refused or unsent publishes, not only on p99", () => {
    expect(stepFailures(step(50, 10))).toEqual([]);
    expect(stepFailures(step(50, 10, 3))).toEqual(["3 deliveries lost"]);
    expect(stepFailures({ ...step(50, 60), rejected: 2, skipped: 1 })).toHaveLength(3);
    expect(kneeOf([step(50, 10, 1)])).toEqual({ knee: undefined, firstFailing: step(50, 10, 1) });
    expect(kneeOf([step(50, 10)]).firstFailing).toBeUndefined();
  });

  it("parses rising steps only", () => {
    expect(parseSteps("50, 100,150")).toEqual([50, 100, 150]);
    expect(() => parseSteps("100,50")).toThrow(/rise/);
    expect(() => parseSteps("50,x")).toThrow(/events/);
  });
});

describe("overload recovery", () => {
  it("is the first second from which every second to the end is under the limit", () => {
    // Overload from 2 s to 4 s, recovery to 8 s.
    expect(recoverySeconds([5, 5, 900, 900, 400, 30, 10, 12], 4, 8, 15)).toBe(2);
    expect(recoverySeconds([5, 5, 900, 900, 10, 30, 10, 12], 4, 8, 15)).toBe(2);
    expect(recoverySeconds([5, 5, 900, 900, 10, 9, 10, 12], 4, 8, 15)).toBe(0);
    expect(recoverySeconds([5, 5, 900, 900, 10, 9, 10, 40], 4, 8, 15)).toBeUndefined();
    expect(recoverySeconds([5, 5, 900, 900, 10, undefined, 10, 12], 4, 8, 15)).toBe(2);
  });
});

/** Needs the compiled bench (workers run as dist/*.js). Only accounting is asserted, no timing. */
describe("overload scenario against raw ws", () => {
  let outDir: string;
  beforeAll(() => void (outDir = mkdtempSync(path.join(tmpdir(), "bench-overload-"))));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("keeps the server alive and loses no accepted event", async () => {
    const params = {
      ...OVERLOAD_DEFAULTS,
      subscribers: 20,
      workers: 1,
      baselineRate: 10,
      baselineS: 1,
      warmupS: 0,
      overloadRate: 50,
      overloadS: 1,
      recoveryS: 1,
    };
    const result = await runBench({
      scenario: overloadScenario(params),
      targets: ["ws"],
      runs: 1,
      pin: false,
      outDir,
      log: () => undefined,
    });
    const [record] = result.records;
    const m = record.metrics;
    expect({ error: record.error, survived: m.survived, loss: m.loss, dropped: m.dropped }).toEqual({
      error: undefined,
      survived: 1,
      loss: 0,
      dropped: 0,
    });
    expect(m.accepted + m.refused + m.notSent).toBe(10 + 50 + 10);
    expect(m.delivered).toBeGreaterThanOrEqual(m.accepted * params.subscribers);
  });
});
