import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Every metric of the node, on one injected Registry (never the global one). Labels stay bounded:
 * channel types, routes, outcomes; never user ids, channel names or event names.
 */
export class RealtimeMetrics {
  readonly connectedSockets: Gauge;
  readonly connections: Counter<"transport">;
  readonly disconnections: Counter<"reason">;
  readonly broadcasts: Counter<"target" | "outcome">;
  readonly apiRequests: Counter<"route" | "method" | "status">;
  readonly apiDuration: Histogram<"route" | "method">;
  readonly broadcastLatency: Histogram;
  readonly authFailures: Counter<"kind">;
  readonly rateLimited: Counter<"scope">;
  readonly onlineUsers: Gauge;
  readonly redisUp: Gauge;
  readonly mastersWithoutReplica: Gauge;
  readonly historyReplays: Counter<"outcome">;
  readonly presenceWebhooks: Counter<"outcome">;
  readonly socketWrites: Counter<"path">;
  readonly handshakesRefused: Counter<"reason">;
  readonly fastPathActive: Gauge;
  /** Read at each scrape; the composition root points them at the presence store and the backend. */
  countOnlineUsers: () => Promise<number> = async () => 0;
  isBackendUp: () => boolean = () => true;
  countMastersWithoutReplica: () => number = () => 0;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.connectedSockets = new Gauge({
      name: "realtime_connected_sockets",
      help: "Socket.IO connections open on this node.",
      registers,
    });
    this.connections = new Counter({
      name: "realtime_connections_total",
      help: "Socket.IO connections accepted, by initial transport.",
      labelNames: ["transport"],
      registers,
    });
    this.disconnections = new Counter({
      name: "realtime_disconnections_total",
      help: "Socket.IO disconnections, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.broadcasts = new Counter({
      name: "realtime_broadcasts_total",
      help: "Broadcast requests by target and outcome (accepted, duplicate, rejected, unavailable).",
      labelNames: ["target", "outcome"],
      registers,
    });
    this.apiRequests = new Counter({
      name: "realtime_api_requests_total",
      help: "HTTP requests by route template, method and status.",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.apiDuration = new Histogram({
      name: "realtime_api_request_duration_seconds",
      help: "HTTP request duration by route template and method.",
      labelNames: ["route", "method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.broadcastLatency = new Histogram({
      name: "realtime_broadcast_latency_seconds",
      help: "From the cluster accepting a broadcast to this node handing it to its sockets.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.authFailures = new Counter({
      name: "realtime_auth_failures_total",
      help: "Refused authentications by kind (api_key, token_missing, token_invalid, token_expired).",
      labelNames: ["kind"],
      registers,
    });
    this.rateLimited = new Counter({
      name: "realtime_rate_limited_total",
      help: "Requests refused by a rate limit, by scope (api, socket).",
      labelNames: ["scope"],
      registers,
    });
    const countOnline = (): Promise<number> => this.countOnlineUsers();
    const backendUp = (): boolean => this.isBackendUp();
    this.onlineUsers = new Gauge({
      name: "realtime_online_users",
      help: "Users online across the cluster.",
      registers,
      async collect() {
        this.set(await countOnline().catch(() => 0));
      },
    });
    this.redisUp = new Gauge({
      name: "realtime_redis_up",
      help: "1 when the shared-state backend is reachable (always 1 in embedded mode).",
      registers,
      collect() {
        this.set(backendUp() ? 1 : 0);
      },
    });
    const withoutReplica = (): number => this.countMastersWithoutReplica();
    this.mastersWithoutReplica = new Gauge({
      name: "realtime_redis_masters_without_replica",
      help: "Redis masters that had a replica and have none connected: broadcasts they accept are not replicated (durability degraded).",
      registers,
      collect() {
        this.set(withoutReplica());
      },
    });
    this.historyReplays = new Counter({
      name: "realtime_history_replays_total",
      help: "Recovery requests by outcome (recovered, gap).",
      labelNames: ["outcome"],
      registers,
    });
    this.presenceWebhooks = new Counter({
      name: "realtime_presence_webhooks_total",
      help: "Presence webhooks to Laravel by outcome (sent, failed).",
      labelNames: ["outcome"],
      registers,
    });
    this.socketWrites = new Counter({
      name: "realtime_socket_writes_total",
      help: "Live channel messages written to sockets, by path: direct (frame on an idle websocket) or queued (Engine.IO).",
      labelNames: ["path"],
      registers,
    });
    this.handshakesRefused = new Counter({
      name: "realtime_handshakes_refused_total",
      help: "Socket.IO connections refused before authentication or by a cap, by reason (draining, node_full, origin_not_allowed, rate_limited, too_many_connections).",
      labelNames: ["reason"],
      registers,
    });
    this.fastPathActive = new Gauge({
      name: "realtime_fast_path_active",
      help: "1 when channel messages are written straight to idle WebSockets, 0 when an engine.io or ws upgrade removed what that relies on (every write then goes through Engine.IO); set at start.",
      registers,
    });
    collectLintCleanDefaults(registry);
  }
}

/**
 * prom-client's default metrics, less the three gauges named `_total` that fail
 * `promtool check metrics`; their values are the sums of `nodejs_active_{handles,requests,resources}`.
 */
function collectLintCleanDefaults(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }
}

/**
 * prom-client children by label values, each made once: `metric.inc({...})` validates and hashes its
 * labels on every call, a child made by `labels()` did that once. For the per-request metrics of
 * the HTTP API. At most `max` are kept (label values from requests are bounded, but not by us).
 */
export class BoundChildren<Child> {
  private readonly children = new Map<string, Child>();

  constructor(
    private readonly make: (a: string, b: string, c: string) => Child,
    private readonly max = 1000,
  ) {}

  /** The child for these label values (two or three, in the order `make` takes them). */
  of(a: string, b: string, c = ""): Child {
    const key = `${a}\u0000${b}\u0000${c}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.make(a, b, c);
      if (this.children.size < this.max) this.children.set(key, child);
    }
    return child;
  }
}
