import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBench } from "../src/bench";
import { QUICK_DEFAULTS, quickScenario } from "../src/scenarios/quick";
import { S5_DEFAULTS, s5Scenario } from "../src/scenarios/s5-small-rooms";
import type { RunRecord } from "../src/scenarios/scenario";
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
    // Per second, the worst latency from the actual send never exceeds the one from the due time
    // (an event is sent at or after it is due), and both cover the same seconds.
    for (const record of result.records) {
      const detail = record.detail as { worstLatencyPerSecondMs: number[]; worstFromSendPerSecondMs: number[] };
      const fromDue = detail.worstLatencyPerSecondMs;
      const fromSend = detail.worstFromSendPerSecondMs;
      expect({ target: record.target, seconds: fromSend.length }).toEqual({
        target: record.target,
        seconds: fromDue.length,
      });
      expect(fromDue.length).toBeGreaterThan(0);
      fromSend.forEach((ms, second) => {
        expect({ target: record.target, second, over: ms > fromDue[second] + 0.001 }).toEqual({
          target: record.target,
          second,
          over: false,
        });
      });
    }
  });

  /**
   * A tiny S5 with node 3 idle (no member, no post): every event reaches exactly its room's members.
   * Bytes are counted, not timed: the classic adapter's idle node reads every event whole (so the
   * byte counters see its Redis connections), the sharded adapter's reads less than that.
   */
  const tinyS5 = {
    ...S5_DEFAULTS,
    rooms: 12,
    roomSize: 3,
    rate: 30,
    durationS: 2,
    warmupS: 0,
    workers: 1,
    idleNodes: 1,
  };
  const events = tinyS5.rate * tinyS5.durationS;
  const delivery = (r: RunRecord) => ({
    target: r.target,
    error: r.error,
    nodes: r.metrics.nodes,
    accepted: r.metrics.accepted,
    delivered: r.metrics.delivered,
    perSubscriber: [r.metrics.minPerSubscriber, r.metrics.maxPerSubscriber],
    dropped: r.metrics.dropped,
  });
  const delivered = (target: string) => ({
    target,
    error: undefined,
    nodes: 3,
    accepted: events,
    delivered: events * 3,
    perSubscriber: [events / 12, events / 12],
    dropped: 0,
  });
  const idleBytes = (records: RunRecord[], target: string): number =>
    records.find((r) => r.target === target)!.metrics.nodeRedisBytesPerEvent3;

  it("S5 on sharded-cluster and bare-cluster (one Redis): delivery, and what an idle node reads", async () => {
    const { records } = await runBench({
      scenario: s5Scenario(tinyS5),
      targets: ["sharded-cluster", "bare-cluster"],
      runs: 1,
      pin: false,
      outDir,
      log: () => undefined,
    });
    expect(records.map(delivery)).toEqual([delivered("sharded-cluster"), delivered("bare-cluster")]);
    const body = records[0].metrics.eventBodyBytes;
    expect(body).toBeGreaterThan(100);
    expect(idleBytes(records, "bare-cluster")).toBeGreaterThan(body);
    expect(idleBytes(records, "sharded-cluster")).toBeLessThan(idleBytes(records, "bare-cluster"));
  });

  it("S5 on sharded-cluster on a local Redis Cluster (3 masters + 3 replicas)", async () => {
    const { records } = await runBench({
      scenario: s5Scenario(tinyS5),
      targets: ["sharded-cluster"],
      runs: 1,
      pin: false,
      outDir,
      redisCluster: true,
      log: () => undefined,
    });
    expect(records.map(delivery)).toEqual([delivered("sharded-cluster")]);
    // The bytes are those of all six servers' connections, and the idle node holds no subscription.
    expect(records[0].metrics.nodeRedisBytesPerEvent1).toBeGreaterThan(records[0].metrics.eventBodyBytes);
    expect(idleBytes(records, "sharded-cluster")).toBeLessThan(records[0].metrics.eventBodyBytes);
  });
});
