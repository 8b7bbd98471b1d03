import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster, ClusterNode, ClusterOptions, ReadyInfo } from "./cluster";
import type { ExitStatus, ManagedProcess } from "./managed-process";
import { startLocalNginx } from "./nginx-server";
import { nodeEnvironment, shutdownTimeoutMs } from "./node-env";
import { startRealtimeNode } from "./realtime-node";
import { startRedisCluster } from "./redis-cluster-servers";
import { startRedisServer } from "./redis-server";
import type { ClusterSettings } from "./settings";

type Role = "redis" | "node" | "nginx";

interface NodeSlot {
  id: string;
  /** 0 until the first start has told us the port; then fixed, because nginx has it. */
  port: number;
  process: ManagedProcess | null;
  /** Set while startNode() runs, so stop() can wait for it. */
  starting: Promise<void> | null;
}

const GRACE_MS = { nginx: 5000, redis: 5000 };

/** The parts of one local run and their life cycle; built by startCluster(). */
export class LocalCluster implements Cluster {
  readonly logsDir: string;
  readonly keyPrefix: string;
  readonly jwtSecret: string;
  readonly apiKey: string;
  redis: Cluster["redis"] = null;
  redisCluster: Cluster["redisCluster"] = null;
  private redisProcess: ManagedProcess | null = null;
  private redisClusterProcesses: ManagedProcess[] = [];
  private nginxProcess: ManagedProcess | null = null;
  private nginxPort = 0;
  private readonly slots: NodeSlot[];
  /** Processes the runner itself signalled: their exit is no news. */
  private readonly expected = new WeakSet<ManagedProcess>();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly settings: ClusterSettings,
    private readonly runDir: string,
    private readonly onUnexpectedExit: ClusterOptions["onUnexpectedExit"],
  ) {
    this.logsDir = join(runDir, "logs");
    this.keyPrefix = settings.keyPrefix;
    this.jwtSecret = settings.jwtSecret;
    this.apiKey = settings.apiKey;
    this.slots = Array.from({ length: settings.nodeCount }, (_unused, i) => ({
      id: `node-${i + 1}`,
      port: 0,
      process: null,
      starting: null,
    }));
  }

  get url(): string {
    return `http://127.0.0.1:${this.nginxPort}`;
  }

  get nginx(): Cluster["nginx"] {
    return { port: this.nginxPort, pid: this.nginxProcess?.pid ?? 0 };
  }

  get nodes(): ClusterNode[] {
    return this.slots.map((slot, index) => ({
      index,
      id: slot.id,
      port: slot.port,
      url: `http://127.0.0.1:${slot.port}`,
      pid: slot.process?.pid ?? 0,
      running: slot.process?.running ?? false,
    }));
  }

  /** Redis, then every node in parallel, then nginx (it needs the nodes' ports). */
  async boot(): Promise<void> {
    const { redis } = this.settings;
    if (redis.kind === "own") {
      const own = await startRedisServer({
        dir: this.runDir,
        logsDir: this.logsDir,
        timeoutMs: this.settings.startTimeoutMs,
      });
      this.redisProcess = this.watch("redis", own.process);
      this.redis = { url: own.url, pid: own.process.pid };
    } else if (redis.kind === "own-cluster") {
      const own = await startRedisCluster({
        dir: this.runDir,
        logsDir: this.logsDir,
        timeoutMs: this.settings.startTimeoutMs,
      });
      this.redisClusterProcesses = own.processes.map((child) => this.watch("redis", child));
      this.redisCluster = own.ports.map((port, index) => ({
        address: own.nodes[index],
        port,
        pid: own.processes.find((child) => child.name === `redis-${port}`)?.pid ?? 0,
      }));
    } else if (redis.kind === "url") {
      this.redis = { url: redis.url, pid: null };
    }
    // allSettled: every node that did start is recorded (and so stopped) even when another failed.
    const results = await Promise.allSettled(this.slots.map((_slot, index) => this.startNode(index)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failure) throw failure.reason;

    const nginx = await startLocalNginx({
      dir: join(this.runDir, "nginx"),
      logsDir: this.logsDir,
      port: this.settings.port,
      upstreams: this.slots.map((slot) => ({ host: "127.0.0.1", port: slot.port })),
      stickiness: this.settings.stickiness,
      timeoutMs: this.settings.startTimeoutMs,
    });
    this.nginxProcess = this.watch("nginx", nginx.process);
    this.nginxPort = nginx.port;
  }

  async startNode(index: number): Promise<ClusterNode> {
    const slot = this.slot(index);
    if (this.stopping) throw new Error("the cluster is stopped");
    if (slot.process?.running || slot.starting) throw new Error(`${slot.id} is already running`);
    slot.starting = this.launch(slot);
    try {
      await slot.starting;
    } finally {
      slot.starting = null;
    }
    return this.nodes[index];
  }

  private async launch(slot: NodeSlot): Promise<void> {
    const started = await startRealtimeNode({
      id: slot.id,
      script: this.settings.nodeScript,
      nodeArgs: this.settings.nodeArgs(slot.id),
      env: nodeEnvironment({
        base: this.settings.baseEnv,
        id: slot.id,
        port: slot.port,
        redisUrl: this.redis?.url ?? null,
        redisClusterNodes: this.redisCluster?.map((node) => node.address) ?? [],
        keyPrefix: this.keyPrefix,
        jwtSecret: this.jwtSecret,
        apiKey: this.apiKey,
        logLevel: this.settings.logLevel,
      }),
      // Not the caller's directory: a .env file there must not reconfigure the nodes.
      cwd: this.runDir,
      logsDir: this.logsDir,
      timeoutMs: this.settings.startTimeoutMs,
    });
    slot.process = this.watch("node", started.process);
    slot.port = started.port;
  }

  async stopNode(index: number, signal: NodeJS.Signals = "SIGTERM"): Promise<ExitStatus> {
    const slot = this.slot(index);
    if (!slot.process) throw new Error(`${slot.id} was never started`);
    return this.signal(slot.process, signal, this.drainMs());
  }

  killNode(index: number): Promise<ExitStatus> {
    return this.stopNode(index, "SIGKILL");
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  ready(): ReadyInfo {
    return {
      url: this.url,
      nodes: this.nodes.map(({ id, port, pid, url }) => ({ id, port, pid, url })),
      redis: this.redis,
      redis_cluster: this.redisCluster,
      nginx_pid: this.nginx.pid,
      nginx_port: this.nginxPort,
      jwt_secret: this.jwtSecret,
      api_key: this.apiKey,
      key_prefix: this.keyPrefix,
      logs: this.logsDir,
    };
  }

  /** Nodes first (they drain and may still clean presence in Redis), then nginx, then Redis. */
  private async stopAll(): Promise<void> {
    // A node still starting would come up after everything else is gone: let it finish first.
    await Promise.allSettled(this.slots.map((slot) => slot.starting));
    await Promise.all(this.slots.map((slot) => slot.process && this.signal(slot.process, "SIGTERM", this.drainMs())));
    if (this.nginxProcess) await this.signal(this.nginxProcess, "SIGTERM", GRACE_MS.nginx);
    if (this.redisProcess) await this.signal(this.redisProcess, "SIGTERM", GRACE_MS.redis);
    await Promise.all(this.redisClusterProcesses.map((child) => this.signal(child, "SIGTERM", GRACE_MS.redis)));
    if (!this.settings.keepLogs) await rm(this.runDir, { recursive: true, force: true });
  }

  private signal(child: ManagedProcess, signal: NodeJS.Signals, graceMs: number): Promise<ExitStatus> {
    this.expected.add(child);
    return child.stop(signal, graceMs);
  }

  /** A node gets its own SHUTDOWN_TIMEOUT_MS to drain, plus a margin, before a SIGKILL. */
  private drainMs(): number {
    return shutdownTimeoutMs(this.settings.baseEnv) + 2000;
  }

  private watch(role: Role, child: ManagedProcess): ManagedProcess {
    void child.exited.then((status) => {
      if (!this.expected.has(child)) this.onUnexpectedExit?.({ role, name: child.name, status });
    });
    return child;
  }

  private slot(index: number): NodeSlot {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no node ${index}: the cluster has ${this.slots.length} (0-based)`);
    return slot;
  }
}
