import type { ClientAuth, WireProtocol } from "../targets/target";

/** What a load client needs to reach and join a target. */
export interface ClientSpec {
  url: string;
  protocol: WireProtocol;
  channel: string;
  auth: ClientAuth;
}

/** S5: where one client connects and what it subscribes to, overriding its spec's `url` and `channel`. */
export interface ClientPlacement {
  url: string;
  channel: string;
}

/** The measured window, on the shared monotonic clock (µs). */
export interface MeasureWindow {
  t0Us: number;
  /** Events due before this are warm-up: counted for loss, not for latency or throughput. */
  fromUs: number;
  untilUs: number;
  /**
   * S7: every `slowEvery`-th connection of each worker (index % slowEvery === 0) stops reading at
   * `fromUs`; its events count neither for loss nor latency. 0 or absent: none.
   */
  slowEvery?: number;
  /**
   * Knee steps: start afresh (counters, histograms and seq checks reset) and ignore, uncounted, any
   * straggler due before `t0Us` (a previous step's).
   */
  fresh?: boolean;
  /** Overload: also keep a latency histogram per second since t0 (per-second p99). */
  perSecondHistograms?: boolean;
}

export type ToWorker =
  | {
      type: "connect";
      spec: ClientSpec;
      firstUserId: number;
      count: number;
      concurrency: number;
      /** One per client (length `count`): each client's own node and room; absent: all as `spec`. */
      placements?: ClientPlacement[];
    }
  | { type: "arm"; window: MeasureWindow }
  | { type: "progress" }
  | { type: "collect" }
  /** S7: read the slow connections again, so that those the server cut see their close. */
  | { type: "resumeSlow" }
  /** S6: open-loop connect + subscribe + disconnect, `rate`/s from `startUs` to `untilUs`. */
  | { type: "churn"; spec: ClientSpec; firstUserId: number; rate: number; startUs: number; untilUs: number }
  | { type: "close" };

export interface WorkerReport {
  type: "report";
  connections: number;
  /** Events received, all connections, warm-up included. */
  received: number;
  /** Events due inside the window. */
  windowReceived: number;
  minPerConnection: number;
  maxPerConnection: number;
  /** Events whose seq was not above the previous one on that connection (duplicates, reordering). */
  outOfOrder: number;
  /** Connections that closed after they were ready (slow ones not included). */
  dropped: number;
  /** S7: connections that stopped reading, and how many of them saw their connection closed. */
  slowConnections: number;
  slowClosed: number;
  bytes: number;
  /** Encoded HdrHistograms (µs): from the due time, and from the actual send time. */
  latency: string;
  sendLatency: string;
  /** Per second since t0: worst latency (µs) and deliveries. */
  perSecondMaxUs: number[];
  /** Per second since t0 (by due time): worst latency (µs) from the actual send. */
  perSecondMaxSendUs: number[];
  /** With `perSecondHistograms`: encoded latency histogram (µs) per second since t0 ("" if none). */
  perSecondLatency?: string[];
}

/** S6: what the churn loop achieved; latency from each connect's due time to its subscribe ack (µs). */
export interface ChurnReport {
  type: "churned";
  started: number;
  completed: number;
  failed: number;
  firstError?: string;
  handshake: string;
}

export type FromWorker =
  | ChurnReport
  | { type: "connected"; ready: number; failed: number; firstError?: string }
  | { type: "progress"; received: number }
  | WorkerReport;
