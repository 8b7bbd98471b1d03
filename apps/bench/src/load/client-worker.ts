/**
 * A load worker (forked by ClientPool): holds a share of the subscribers, records each event's
 * latency into HdrHistograms and per-connection counters, and reports on request.
 */
import jwt from "jsonwebtoken";
import { nowUs } from "./clock";
import type { Histogram } from "hdr-histogram-js";
import { encodeHistogram, newHistogram } from "./histogram";
import { readStamp } from "./payload";
import type { RawWebSocket } from "./raw-websocket";
import { openWireClient } from "./wire-client";
import type { ClientPlacement, ClientSpec, FromWorker, MeasureWindow, ToWorker, WorkerReport } from "./worker-messages";
import { runChurn } from "./churn";

const sockets: RawWebSocket[] = [];
const counts: number[] = [];
const lastSeq: number[] = [];
const latency = newHistogram();
const sendLatency = newHistogram();
const perSecondMaxUs: number[] = [];
/** The same from the actual send: without the publisher's own lateness (its timers, its cold start). */
const perSecondMaxSendUs: number[] = [];
const perSecondLatency: Histogram[] = [];
/** Events due before this are ignored entirely (set by a `fresh` window). */
let ignoreBeforeUs = -Infinity;
let window: MeasureWindow = { t0Us: 0, fromUs: Infinity, untilUs: -Infinity };
let received = 0;
let windowReceived = 0;
let outOfOrder = 0;
let dropped = 0;
let bytes = 0;
/** S7: indexes of the connections that stopped reading, and which of those were closed since. */
const slow = new Set<number>();
const slowClosed = new Set<number>();
let pauseTimer: NodeJS.Timeout | undefined;

const send = (message: FromWorker): void => {
  process.send?.(message);
};

function onEvent(index: number, packet: string): void {
  if (slow.has(index)) return;
  const now = nowUs();
  const stamp = readStamp(packet);
  // A knee step's window is `fresh`: a previous step's straggler is not this step's delivery.
  if (stamp && stamp.t < ignoreBeforeUs) return;
  received++;
  counts[index]++;
  bytes += packet.length;
  if (!stamp) return;
  if (stamp.seq <= lastSeq[index]) outOfOrder++;
  else lastSeq[index] = stamp.seq;
  const micros = Math.max(1, Math.round(now - stamp.t));
  if (stamp.t >= window.t0Us) {
    const second = Math.floor((stamp.t - window.t0Us) / 1e6);
    if (!(perSecondMaxUs[second] >= micros)) perSecondMaxUs[second] = micros;
    const fromSend = Math.max(1, Math.round(now - stamp.s));
    if (!(perSecondMaxSendUs[second] >= fromSend)) perSecondMaxSendUs[second] = fromSend;
    if (window.perSecondHistograms) (perSecondLatency[second] ??= newHistogram()).recordValue(micros);
  }
  if (stamp.t < window.fromUs || stamp.t >= window.untilUs) return;
  windowReceived++;
  latency.recordValue(micros);
  sendLatency.recordValue(Math.max(1, Math.round(now - stamp.s)));
}

function tokenFor(spec: ClientSpec, userId: number): string | undefined {
  if (spec.auth.kind !== "jwt") return undefined;
  return jwt.sign({ sub: String(userId) }, spec.auth.secret, { algorithm: "HS256", expiresIn: "1h" });
}

/** Opens `count` clients, at most `concurrency` handshakes in flight (a paced ramp). */
async function connect(
  spec: ClientSpec,
  firstUserId: number,
  count: number,
  concurrency: number,
  placements?: ClientPlacement[],
): Promise<void> {
  let next = 0;
  let ready = 0;
  let failed = 0;
  let firstError: string | undefined;
  const openOne = (): Promise<void> =>
    new Promise((resolve) => {
      const index = sockets.length;
      counts.push(0);
      lastSeq.push(-1);
      const placement = placements?.[next];
      const clientSpec = placement ? { ...spec, url: placement.url, channel: placement.channel } : spec;
      const socket = openWireClient(clientSpec, tokenFor(spec, firstUserId + next), {
        onReady: () => {
          ready++;
          resolve();
        },
        onFail: (reason) => {
          failed++;
          firstError ??= reason;
          resolve();
        },
        onEvent: (packet) => onEvent(index, packet),
        onClose: () => {
          if (slow.has(index)) slowClosed.add(index);
          else dropped++;
        },
      });
      sockets.push(socket);
    });
  const lane = async (): Promise<void> => {
    while (next < count) {
      const pending = openOne();
      next++;
      await pending;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  send({ type: "connected", ready, failed, firstError });
}

/** A `fresh` window: everything counted so far is forgotten (the connections stay). */
function startAfresh(t0Us: number): void {
  counts.fill(0);
  lastSeq.fill(-1);
  latency.reset();
  sendLatency.reset();
  perSecondMaxUs.length = 0;
  perSecondMaxSendUs.length = 0;
  perSecondLatency.length = 0;
  received = 0;
  windowReceived = 0;
  outOfOrder = 0;
  bytes = 0;
  ignoreBeforeUs = t0Us;
}

/** S7: every `every`-th connection stops reading when the measured window opens. */
function scheduleSlow(every: number, atUs: number): void {
  clearTimeout(pauseTimer);
  if (!(every > 0)) return;
  for (let i = 0; i < sockets.length; i += every) slow.add(i);
  pauseTimer = setTimeout(
    () => {
      for (const index of slow) sockets[index].pause();
    },
    Math.max(0, (atUs - nowUs()) / 1000),
  );
}

function report(): WorkerReport {
  const healthy = counts.filter((_, i) => !slow.has(i));
  const live = healthy.length > 0 ? healthy : [0];
  return {
    type: "report",
    connections: sockets.length - slow.size,
    received,
    windowReceived,
    minPerConnection: Math.min(...live),
    maxPerConnection: Math.max(...live),
    outOfOrder,
    dropped,
    slowConnections: slow.size,
    slowClosed: slowClosed.size,
    bytes,
    latency: encodeHistogram(latency),
    sendLatency: encodeHistogram(sendLatency),
    perSecondMaxUs: Array.from(perSecondMaxUs, (value) => value ?? 0),
    perSecondMaxSendUs: Array.from(perSecondMaxSendUs, (value) => value ?? 0),
    ...(window.perSecondHistograms
      ? { perSecondLatency: Array.from(perSecondLatency, (h) => (h ? encodeHistogram(h) : "")) }
      : {}),
  };
}

process.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "connect":
      void connect(message.spec, message.firstUserId, message.count, message.concurrency, message.placements);
      break;
    case "arm":
      window = message.window;
      if (window.fresh) startAfresh(window.t0Us);
      scheduleSlow(message.window.slowEvery ?? 0, message.window.fromUs);
      break;
    case "churn":
      void runChurn(message, (spec, userId) => tokenFor(spec, userId)).then(send);
      break;
    case "resumeSlow":
      for (const index of slow) sockets[index].resume();
      break;
    case "progress":
      send({ type: "progress", received });
      break;
    case "collect":
      send(report());
      break;
    case "close":
      for (const socket of sockets) socket.close();
      process.exit(0);
  }
});

// The harness went away (crash, SIGKILL): never outlive it.
process.on("disconnect", () => process.exit(0));
