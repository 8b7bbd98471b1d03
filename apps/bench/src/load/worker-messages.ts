import type { ClientAuth, WireProtocol } from "../targets/target";

/** What a load client needs to reach and join a target. */
export interface ClientSpec {
  url: string;
  protocol: WireProtocol;
  channel: string;
  auth: ClientAuth;
}

/** The measured window, on the shared monotonic clock (µs). */
export interface MeasureWindow {
  t0Us: number;
  /** Events due before this are warm-up: counted for loss, not for latency or throughput. */
  fromUs: number;
  untilUs: number;
}

export type ToWorker =
  | { type: "connect"; spec: ClientSpec; firstUserId: number; count: number; concurrency: number }
  | { type: "arm"; window: MeasureWindow }
  | { type: "progress" }
  | { type: "collect" }
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
  /** Connections that closed after they were ready. */
  dropped: number;
  bytes: number;
  /** Encoded HdrHistograms (µs): from the due time, and from the actual send time. */
  latency: string;
  sendLatency: string;
  /** Per second since t0: worst latency (µs) and deliveries. */
  perSecondMaxUs: number[];
}

export type FromWorker =
  | { type: "connected"; ready: number; failed: number; firstError?: string }
  | { type: "progress"; received: number }
  | WorkerReport;
