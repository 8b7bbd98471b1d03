import { ClientPool } from "../load/client-pool";
import { nowUs } from "../load/clock";
import { createSender } from "../load/ingress-sender";
import { runOpenLoop } from "../load/open-loop";
import { DEFAULT_PAD_BYTES, eventData } from "../load/payload";
import { evenSchedule } from "../load/schedule";
import { cpuMeter, machineMeter, rssBytes } from "../proc/proc-stats";
import { sleep } from "../targets/http-get";
import type { Ingress, RunningTarget, TargetName, TargetNode } from "../targets/target";
import { deliveryFigures, EVENT, FANOUT_COLUMNS, GENERATOR_LIMIT_PCT, waitForDeliveries } from "./fanout";
import { bytesDelta, redisBytesByPid } from "./s5-redis-traffic";
import {
  activeNodes,
  clientPlacements,
  ingressNode,
  layoutTally,
  RoomLayout,
  roomChannel,
  roomOfEvent,
} from "./s5-rooms";
import type { Column, Metrics, RunContext, RunOutput, Scenario } from "./scenario";

export interface S5Params {
  rooms: number;
  /** Subscribers per room. */
  roomSize: number;
  /** Events per second, all rooms together (room i mod rooms). */
  rate: number;
  /** Nodes of the cluster targets; single-node targets run the same rooms on their one node. */
  nodes: number;
  /**
   * The last `idleNodes` nodes hold no member of any room and get no posts (`--idle-nodes`, default 0):
   * their bytes read from Redis per event are what a node pays for rooms it does not hold.
   */
  idleNodes: number;
  /** Publishing time, warm-up included (s). */
  durationS: number;
  warmupS: number;
  workers: number;
  padBytes: number;
  /** Longest wait for stragglers after the last event (ms). */
  drainMs: number;
}

export const S5_DEFAULTS: S5Params = {
  rooms: 1000,
  roomSize: 3,
  rate: 1000,
  nodes: 3,
  idleNodes: 0,
  durationS: 12,
  warmupS: 2,
  workers: 2,
  padBytes: DEFAULT_PAD_BYTES,
  drainMs: 5000,
};

export const S5_TARGETS: TargetName[] = ["ours-cluster", "bare-cluster", "sharded-cluster"];

/** Targets whose subscribe is acknowledged per channel and whose HTTP API takes any room. */
const S5_CAPABLE: readonly TargetName[] = [
  "ours-cluster",
  "bare-cluster",
  "sharded-cluster",
  "ours-cluster-base",
  "ours",
  "bare",
];

/**
 * S5 (issue 5): many small rooms over 2–3 nodes. `rooms` × `roomSize` subscribers, room r's members
 * on node r mod N and, for odd r, also on node (r + 1) mod N (s5-rooms.ts; N = the nodes that are not
 * idle); `rate` events/s open loop, to room i mod rooms, each posted over HTTP to a node holding none
 * of that room's members where there is one. Shows what a node pays for the traffic of rooms it has no
 * member of: per-node CPU, Redis CPU and the bytes each node reads from Redis; with `idleNodes`, the
 * bytes of a node that holds no room at all, as a share of an event.
 */
export function s5Scenario(params: S5Params): Scenario {
  const nodes = Math.max(1, Math.floor(params.nodes));
  const idleNodes = Math.max(0, Math.min(nodes - 1, Math.floor(params.idleNodes)));
  const active = nodes - idleNodes;
  const idle = idleNodes > 0 ? `, nodes ${active + 1}–${nodes} idle (no member, no post)` : "";
  return {
    name: "s5",
    title:
      `S5 many small rooms: ${params.rooms} rooms × ${params.roomSize} subscribers over ${nodes} node(s), each room on 1 or 2 of ` +
      `${idleNodes > 0 ? `the first ${active}` : "them"}${idle}, ` +
      `${params.rate} events/s (${params.rate * params.roomSize} deliveries/s) posted to a node without the room's members, ` +
      `${params.durationS - params.warmupS} s measured after ${params.warmupS} s warm-up`,
    params: { ...params, nodes, idleNodes },
    columns: s5Columns(nodes, idleNodes),
    chart: {
      latency: ["p50Ms", "p90Ms", "p99Ms", "p999Ms"],
      throughput: "deliveredPerS",
      throughputLabel: "delivered/s",
    },
    memoryProbe: false,
    defaultTargets: S5_TARGETS,
    clusterNodes: nodes,
    deadlineMs: (params.durationS + 120) * 1000,
    run: (target, context) => measureSmallRooms(target, { ...params, nodes, idleNodes }, context),
  };
}

export function s5Columns(nodes: number, idleNodes = 0): Column[] {
  const pick = (key: string): Column => FANOUT_COLUMNS.find((c) => c.key === key)!;
  const perNode = (key: string, label: string, doc: string, digits: number): Column[] =>
    Array.from({ length: nodes }, (_, i) => ({ key: `${key}${i + 1}`, label: `n${i + 1} ${label}`, doc, digits }));
  return [
    pick("deliveredPerS"),
    pick("lossPct"),
    pick("p50Ms"),
    pick("p90Ms"),
    pick("p99Ms"),
    pick("p999Ms"),
    pick("maxMs"),
    ...perNode("nodeCpuPct", "CPU %", "node k's process utime+stime over the window, % of one core", 0),
    {
      key: "serverCpuPct",
      label: "nodes CPU %",
      doc: "all nodes together (single-node targets: the one node), % of one core",
      digits: 0,
    },
    {
      key: "cpuUsPerDelivery",
      label: "CPU µs/delivery",
      doc: "CPU of all nodes / deliveries in the window: the nodes without members of a room pay their share",
      digits: 2,
    },
    {
      key: "redisCpuPct",
      label: "Redis CPU %",
      doc: "the target's redis-server (--redis-cluster: all six servers together), % of one core",
      digits: 0,
    },
    ...perNode(
      "nodeRedisBytesPerEvent",
      "Redis B/event",
      "bytes node k read from Redis per event accepted, from just before the first event to the end of the drain " +
        "(kernel TCP counters of all its connections to any of the target's Redis servers, via ss; commands' " +
        "replies included): a node reading every event shows ≈ a whole event, one reading only its rooms' events " +
        "about its share of them; an idle node (--idle-nodes: the last ones) shows what it pays for rooms it does not hold",
      0,
    ),
    ...(idleNodes > 0
      ? [
          {
            key: "idleRedisPctOfEvent",
            label: "idle node Redis % of event",
            doc:
              "100 × the idle nodes' mean Redis B/event ÷ the bytes of one event's body as posted over HTTP " +
              "(eventBodyBytes in the JSON): what a node without members reads of an event (issue 10: ≤ 5 %)",
            digits: 1,
          },
        ]
      : []),
    {
      key: "redisOutKBps",
      label: "Redis out KB/s",
      doc: "everything Redis sent to its clients (not to its own replicas) per second of the measured window",
      digits: 0,
    },
    { key: "serverRssMb", label: "RSS MB", doc: "all nodes' resident memory at the end of the window", digits: 0 },
    pick("genCpuPct"),
    pick("answerP99Ms"),
    pick("otherCpuPct"),
  ];
}

/** One S5 run: place the clients, publish open loop to rotating rooms and nodes, measure, drain, collect. */
export async function measureSmallRooms(
  target: RunningTarget,
  params: S5Params,
  context: RunContext,
): Promise<RunOutput> {
  if (!S5_CAPABLE.includes(target.name)) throw new Error(`s5 runs on ${S5_CAPABLE.join(", ")}, not ${target.name}`);
  const nodes: TargetNode[] = target.nodes ?? [
    { url: target.url, pid: target.serverPids[0], ingress: target.httpIngress },
  ];
  if (params.idleNodes > 0 && params.idleNodes >= nodes.length) {
    throw new Error(`s5: --idle-nodes ${params.idleNodes} leaves no node for the rooms of ${target.name}`);
  }
  const layout: RoomLayout = {
    rooms: params.rooms,
    roomSize: params.roomSize,
    nodes: nodes.length,
    idleNodes: params.idleNodes,
  };
  const placements = clientPlacements(layout).map(({ room, node }) => ({
    url: nodes[node].url,
    channel: roomChannel(room),
  }));
  const pool = ClientPool.start(
    { url: target.url, protocol: target.protocol, channel: roomChannel(0), auth: target.auth },
    params.workers,
    context.cpuProfileDir,
  );
  const senders = await Promise.all(nodes.map((node) => createSender(node.ingress)));
  try {
    await pool.connect(placements.length, 90_000, 50, placements);
    const count = Math.round(params.rate * params.durationS);
    const t0Us = Math.round(nowUs()) + 200_000;
    const fromUs = t0Us + Math.round(params.warmupS * 1e6);
    const untilUs = t0Us + Math.round(params.durationS * 1e6);
    pool.arm({ t0Us, fromUs, untilUs });

    const nodePids = nodes.map((node) => node.pid);
    const redisPids = (target.redis ?? []).map((server) => server.pid);
    const redisPorts = (target.redis ?? []).map((server) => server.port);
    const nodeMeters = nodes.map((node) => cpuMeter([node.pid]));
    const allNodes = cpuMeter(nodePids);
    const generator = cpuMeter([process.pid, ...pool.pids]);
    const redisCpu = cpuMeter(redisPids);
    // nginx of ours-cluster (idle here) and anything else the target started.
    const rest = cpuMeter(target.helperPids.filter((pid) => !nodePids.includes(pid) && !redisPids.includes(pid)));
    const machine = machineMeter();
    const meters = [...nodeMeters, allNodes, generator, redisCpu, rest, machine];
    const redisBytes = (): Map<number, number> => redisBytesByPid(redisPorts);
    const window = (async () => {
      await sleep(Math.max(0, (fromUs - nowUs()) / 1000));
      for (const meter of meters) meter.start();
      const before = redisBytes();
      await sleep(Math.max(0, (untilUs - nowUs()) / 1000));
      const cpu = meters.map((meter) => meter.read());
      const after = redisBytes();
      return { cpu, windowRedisBytes: bytesDelta(before, after) };
    })();
    // Per event, the whole run counts: when the nodes fall behind, the window sees only part of it.
    const runStartBytes = redisBytes();
    const outcome = await runOpenLoop({
      send: senders[0].send,
      channel: roomChannel(0),
      event: EVENT,
      rate: params.rate,
      count,
      t0Us,
      padBytes: params.padBytes,
      route: (i) => ({
        channel: roomChannel(roomOfEvent(i, params.rooms)),
        send: senders[ingressNode(i, layout)].send,
      }),
    });
    const { cpu, windowRedisBytes } = await window;
    const nodeCpu = cpu.slice(0, nodes.length);
    const [allCpu, generatorCpu, redisCpuRead, restCpu, machineCpu] = cpu.slice(nodes.length);
    const rss = nodePids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);

    const expected = outcome.accepted * params.roomSize;
    await waitForDeliveries(pool, expected, params.drainMs);
    const runRedisBytes = bytesDelta(runStartBytes, redisBytes());
    const report = await pool.collect();

    const windowS = params.durationS - params.warmupS;
    const schedule = evenSchedule(t0Us, params.rate, count);
    const inWindow = Array.from({ length: count }, (_, i) => i).filter((i) => {
      const due = schedule.dueAt(i);
      return due >= fromUs && due < untilUs;
    });
    const tally = layoutTally(inWindow, layout);
    // A Redis Cluster's replicas read their masters' replication stream: not what the clients read.
    const redisOutBytes = [...windowRedisBytes]
      .filter(([pid]) => !redisPids.includes(pid))
      .reduce((sum, [, bytes]) => sum + bytes, 0);
    const ms = (us: number): number => us / 1000;
    const metrics: Metrics = {
      nodes: nodes.length,
      ...deliveryFigures(report, outcome, expected, windowS),
      extra: Math.max(0, report.received - expected),
      serverCpuPct: allCpu.percent,
      cpuUsPerDelivery: report.windowReceived > 0 ? allCpu.cpuUs / report.windowReceived : 0,
      redisCpuPct: redisCpuRead.percent,
      serverRssMb: rss / 1e6,
      genCpuPct: generatorCpu.percent,
      helperCpuPct: redisCpuRead.percent + restCpu.percent,
      otherCpuPct: Math.max(
        0,
        machineCpu.percent - allCpu.percent - generatorCpu.percent - redisCpuRead.percent - restCpu.percent,
      ),
      answerP50Ms: ms(outcome.answer.p50),
      answerP99Ms: ms(outcome.answer.p99),
      maxSendLagMs: ms(outcome.maxSendLagUs),
      packetBytes: report.avgPacketBytes,
      eventsInWindow: tally.events,
      crossNodeEventsPct: tally.events > 0 ? (100 * tally.crossNode) / tally.events : 0,
    };
    nodeCpu.forEach((read, i) => {
      metrics[`nodeCpuPct${i + 1}`] = read.percent;
      // What node i's CPU bought: its members' deliveries (the layout's, i.e. assuming no loss).
      const owed = tally.deliveriesPerNode[i];
      if (owed > 0) metrics[`nodeCpuUsPerDelivery${i + 1}`] = read.cpuUs / owed;
      metrics[`nodeEventsWithoutMembersPct${i + 1}`] =
        tally.events > 0 ? (100 * tally.withoutMembersPerNode[i]) / tally.events : 0;
    });
    if (redisPorts.length > 0) {
      metrics.redisOutKBps = redisOutBytes / 1000 / windowS;
      nodes.forEach((node, i) => {
        const bytes = runRedisBytes.get(node.pid);
        if (bytes !== undefined && outcome.accepted > 0) {
          metrics[`nodeRedisBytesPerEvent${i + 1}`] = bytes / outcome.accepted;
          metrics[`nodeRedisKBps${i + 1}`] = (windowRedisBytes.get(node.pid) ?? 0) / 1000 / windowS;
        }
      });
      const idle = Array.from({ length: layout.idleNodes ?? 0 }, (_, k) => activeNodes(layout) + k)
        .map((i) => metrics[`nodeRedisBytesPerEvent${i + 1}`])
        .filter((bytes) => bytes !== undefined);
      const bodyBytes = eventBodyBytes(target.httpIngress, params.padBytes);
      metrics.eventBodyBytes = bodyBytes;
      if (idle.length > 0 && bodyBytes > 0) {
        const mean = idle.reduce((sum, bytes) => sum + bytes, 0) / idle.length;
        metrics.idleRedisPctOfEvent = (100 * mean) / bodyBytes;
      }
    }
    if (generatorCpu.percent > GENERATOR_LIMIT_PCT) {
      context.log(
        `  ! load generator at ${generatorCpu.percent.toFixed(0)} % of its core: this run measures the harness`,
      );
    }
    return {
      metrics,
      detail: {
        worstLatencyPerSecondMs: report.perSecondMaxUs.map(ms),
        deliveriesPerNodeInWindow: tally.deliveriesPerNode,
        eventsWithoutMembersPerNode: tally.withoutMembersPerNode,
      },
    };
  } finally {
    await Promise.all(senders.map((sender) => sender.close()));
    await pool.close();
  }
}

/** Bytes of one S5 event's body as posted over HTTP (stamps of today's clock: their usual width). */
export function eventBodyBytes(ingress: Ingress, padBytes: number): number {
  if (ingress.kind !== "http") return 0;
  const now = nowUs();
  const data = eventData({ seq: 12_345, t: now, s: now }, padBytes);
  return Buffer.byteLength(ingress.body(roomChannel(123), EVENT, data));
}
