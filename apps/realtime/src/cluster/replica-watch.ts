import Redis, { Cluster } from "ioredis";
import { slotOf } from "./key-space";
import type { RedisClient } from "./redis-connections";
import { systemScheduler, type Cancel, type Scheduler } from "../core/ports";

/** How often the masters are asked how many replicas they have connected. */
const REFRESH_MS = 1000;

/** How broadcasts are made durable right now (/health `durability`). */
export type Durability = "replicated" | "degraded" | "single";

/**
 * How many replicas each master has connected right now (ROLE), so that a publish waits for a
 * replica (WAIT) only where one is connected: WAIT with none connected would block for its whole
 * timeout. A master that had replicas and has none (just after a failover, before a new replica
 * links) is where durability is degraded: it accepts on its own (availability wins) and says so.
 */
export class ReplicaWatch {
  private readonly replicas = new Map<string, number>();
  private readonly everReplicated = new Set<string>();
  /** `host:port` of the replicas each master listed at its last answer. */
  private readonly replicaAddresses = new Map<string, string[]>();
  private stopRefresh: Cancel = () => undefined;

  /**
   * `scheduler`: the node's (app.ts), so that tests own the refresh's clock like every other timer.
   * `onReplicas`: told after each look every replica the masters list (RedisScript loads its scripts there).
   */
  constructor(
    private readonly client: RedisClient,
    private readonly scheduler: Scheduler = systemScheduler,
    private readonly onReplicas?: (addresses: string[]) => void,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.stopRefresh = this.scheduler.every(REFRESH_MS, () => this.refresh().catch(() => undefined));
  }

  stop(): void {
    this.stopRefresh();
  }

  /** Whether the master of `name`'s slot has a replica connected (as of the last look). */
  hasReplica(name: string): boolean {
    return (this.replicas.get(this.masterOf(name)) ?? 0) > 0;
  }

  /** Masters that had a replica since this node started and have none connected now. */
  mastersWithoutReplica(): number {
    return [...this.replicas].filter(([master, count]) => count === 0 && this.everReplicated.has(master)).length;
  }

  durability(): Durability {
    if (this.mastersWithoutReplica() > 0) return "degraded";
    return [...this.replicas.values()].some((count) => count > 0) ? "replicated" : "single";
  }

  private async refresh(): Promise<void> {
    const masters: Array<[string, Redis]> =
      this.client instanceof Cluster
        ? this.client.nodes("master").map((node) => [`${node.options.host}:${node.options.port}`, node])
        : [["", this.client]];
    const seen = new Set<string>();
    // A master that does not answer (dead, failing over) keeps its last count until it is gone.
    await Promise.allSettled(
      masters.map(async ([key, node]) => {
        seen.add(key);
        const role = (await node.call("ROLE")) as [string, number, Array<[string, string, string]>];
        const listed = role[0] === "master" ? role[2] : [];
        this.replicas.set(key, listed.length);
        this.replicaAddresses.set(
          key,
          listed.map(([host, port]) => `${host}:${port}`),
        );
        if (listed.length > 0) this.everReplicated.add(key);
      }),
    );
    for (const key of this.replicas.keys()) if (!seen.has(key)) this.replicas.delete(key);
    for (const key of this.replicaAddresses.keys()) if (!seen.has(key)) this.replicaAddresses.delete(key);
    this.onReplicas?.([...this.replicaAddresses.values()].flat());
    // A cluster whose masters have replicas: every master should, including one promoted just now.
    if (this.client instanceof Cluster && this.everReplicated.size > 0)
      for (const key of seen) this.everReplicated.add(key);
  }

  private masterOf(name: string): string {
    return this.client instanceof Cluster ? (this.client.slots[slotOf(name)]?.[0] ?? "") : "";
  }
}
