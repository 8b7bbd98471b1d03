import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBench } from "../src/bench";
import { parseSsBytesReceived } from "../src/scenarios/s5-redis-traffic";
import {
  clientPlacements,
  ingressNode,
  layoutTally,
  membersPerNode,
  roomNodes,
  roomOfEvent,
} from "../src/scenarios/s5-rooms";
import { S5_DEFAULTS, s5Scenario } from "../src/scenarios/s5-small-rooms";

describe("S5 room layout", () => {
  const layout = { rooms: 1000, roomSize: 3, nodes: 3 };

  it("puts every room on one or two nodes, half of them on two", () => {
    const spans = Array.from({ length: layout.rooms }, (_, room) => roomNodes(room, layout.nodes));
    expect(spans.every((nodes) => nodes.length === 1 || nodes.length === 2)).toBe(true);
    expect(spans.filter((nodes) => nodes.length === 2)).toHaveLength(layout.rooms / 2);
    expect(spans.every((nodes) => new Set(nodes).size === nodes.length)).toBe(true);
    expect(roomNodes(7, 3)).toEqual([1, 2]);
    expect(roomNodes(8, 3)).toEqual([2]);
  });

  it("places room × size clients, spread over the nodes", () => {
    const clients = clientPlacements(layout);
    expect(clients).toHaveLength(3000);
    const perNode = [0, 1, 2].map((node) => clients.filter((c) => c.node === node).length);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(3000);
    for (const count of perNode) expect(count).toBeGreaterThan(900);
    // Every client sits on a node of its room.
    expect(clients.every((c) => roomNodes(c.room, layout.nodes).includes(c.node))).toBe(true);
  });

  it("posts every event to a node holding none of its room's members (3 nodes)", () => {
    const events = Array.from({ length: 12_000 }, (_, i) => i);
    expect(events.every((i) => !roomNodes(roomOfEvent(i, layout.rooms), 3).includes(ingressNode(i, layout)))).toBe(
      true,
    );
    const tally = layoutTally(events, layout);
    expect(tally.crossNode).toBe(12_000);
    expect(tally.deliveriesPerNode.reduce((a, b) => a + b, 0)).toBe(12_000 * layout.roomSize);
    // Each node holds members of half the rooms: half of what it reads from Redis is for nobody there.
    expect(tally.withoutMembersPerNode).toEqual([6000, 6000, 6000]);
  });

  it("falls back to any node where a room spans them all (2 nodes)", () => {
    const two = { rooms: 10, roomSize: 3, nodes: 2 };
    expect(roomNodes(1, 2)).toEqual([1, 0]);
    const targets = Array.from({ length: 40 }, (_, i) => i)
      .filter((i) => i % 10 === 1)
      .map((i) => ingressNode(i, two));
    expect(new Set(targets)).toEqual(new Set([0, 1]));
  });
});

describe("S5 room layout with an idle node", () => {
  const layout = { rooms: 1000, roomSize: 3, nodes: 3, idleNodes: 1 };

  it("puts no member on the idle node and posts nothing to it", () => {
    const clients = clientPlacements(layout);
    expect(clients).toHaveLength(3000);
    expect(clients.filter((c) => c.node === 2)).toHaveLength(0);
    // The rooms spread over the two other nodes as over any two.
    expect(clients.every((c) => roomNodes(c.room, 2).includes(c.node))).toBe(true);
    const events = Array.from({ length: 12_000 }, (_, i) => i);
    expect(events.some((i) => ingressNode(i, layout) === 2)).toBe(false);
    expect(membersPerNode(7, layout)).toEqual([1, 2, 0]);
  });

  it("counts every event as one without members on the idle node", () => {
    const events = Array.from({ length: 12_000 }, (_, i) => i);
    const tally = layoutTally(events, layout);
    expect(tally.withoutMembersPerNode[2]).toBe(12_000);
    expect(tally.deliveriesPerNode[2]).toBe(0);
    expect(tally.deliveriesPerNode.reduce((a, b) => a + b, 0)).toBe(12_000 * 3);
    // Rooms on one node are posted to the other; rooms on both cannot cross.
    expect(tally.crossNode).toBe(6000);
  });

  it("leaves the idle columns out unless asked for, and validates the count", () => {
    const keys = (idleNodes: number) => s5Scenario({ ...S5_DEFAULTS, idleNodes }).columns.map((c) => c.key);
    expect(keys(0)).not.toContain("idleRedisPctOfEvent");
    expect(keys(1)).toContain("idleRedisPctOfEvent");
    // At least one node keeps the rooms.
    expect((s5Scenario({ ...S5_DEFAULTS, nodes: 3, idleNodes: 5 }).params as { idleNodes: number }).idleNodes).toBe(2);
  });
});

describe("S5 Redis traffic", () => {
  it("sums ss bytes_received per pid", () => {
    const text = [
      '0      0      127.0.0.1:53272 127.0.0.1:16399 users:(("node",pid=101,fd=21))',
      "\t bbr wscale:10,10 rto:204 bytes_sent:28 bytes_acked:29 bytes_received:69 segs_out:5",
      '0      0      127.0.0.1:53274 127.0.0.1:16399 users:(("node",pid=101,fd=22))',
      "\t bbr bytes_received:31 segs_out:5",
      "0      0      127.0.0.1:53276 127.0.0.1:16399",
      "\t bbr bytes_received:5",
    ].join("\n");
    expect([...parseSsBytesReceived(text)]).toEqual([
      [101, 100],
      [0, 5],
    ]);
  });
});

/**
 * A tiny S5 on both cluster targets (3 nodes each, Redis, the load worker): every event reaches every
 * member of its room and nobody else. Counts only, no timing. Needs the compiled bench and realtime.
 */
describe("S5 on the cluster targets", () => {
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(path.join(tmpdir(), "bench-s5-"));
  });
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it("delivers every event to exactly its room's members", async () => {
    const params = { ...S5_DEFAULTS, rooms: 12, roomSize: 3, rate: 30, durationS: 2, warmupS: 0, workers: 1 };
    const result = await runBench({
      scenario: s5Scenario(params),
      targets: ["ours-cluster", "bare-cluster"],
      runs: 1,
      pin: false,
      outDir,
      log: () => undefined,
    });
    const events = params.rate * params.durationS;
    const outcome = result.records.map((r) => ({
      target: r.target,
      error: r.error,
      nodes: r.metrics.nodes,
      subscribers: r.metrics.subscribers,
      accepted: r.metrics.accepted,
      delivered: r.metrics.delivered,
      perSubscriber: [r.metrics.minPerSubscriber, r.metrics.maxPerSubscriber],
      dropped: r.metrics.dropped,
      crossNodeEventsPct: r.metrics.crossNodeEventsPct,
    }));
    expect(outcome).toEqual(
      (["ours-cluster", "bare-cluster"] as const).map((target) => ({
        target,
        error: undefined,
        nodes: 3,
        subscribers: 36,
        accepted: events,
        delivered: events * 3,
        perSubscriber: [events / 12, events / 12],
        dropped: 0,
        crossNodeEventsPct: 100,
      })),
    );
  }, 60_000);
});
