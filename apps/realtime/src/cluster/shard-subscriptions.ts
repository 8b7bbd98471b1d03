import Redis, { Cluster } from "ioredis";
import { ALL_CHANNEL } from "@mechamap/protocol";
import { slotOf, type KeySpace } from "./key-space";
import type { RedisClient } from "./redis-connections";
import { systemClock, systemScheduler, type Cancel, type Clock, type Scheduler } from "../core/ports";

/** How often each shard's canary goes round, and how late it may be before the shard counts as lost. */
const CANARY_EVERY_MS = 500;
const CANARY_STALE_MS = 2000;
/** How long a join waits for its channel's subscription before the gap replay takes over. */
const HOLD_WAIT_MS = 2000;
/** Clock skew between nodes and Redis that a gap replay allows for. */
const GAP_MARGIN_MS = 1000;

export type GapListener = (sinceMs: number, channels: string[]) => void;

export interface ShardSubscriptionsOptions {
  /** Subscriber connection: a Redis, or a Cluster with `shardedSubscribers: true`. */
  subscriber: RedisClient;
  /** Publishes the canaries. */
  commands: RedisClient;
  keys: KeySpace;
  nodeId: string;
  /** How long a channel stays subscribed after its last local member left (page reloads come back). */
  lingerMs: number;
  /** Every event of a held channel, as published (`offset|payload`). */
  onMessage: (text: string) => void;
  /** When a shard was lost, when its canary goes and whether it is late; the linger's timer too. */
  clock?: Clock;
  scheduler?: Scheduler;
}

/** One shard: the master serving a set of slots, watched through a canary channel in one of them. */
interface Shard {
  canary: string;
  lastCanary: number;
  /** Set while this shard's subscription is (or may have been) down: since when messages may be missing. */
  lostAt?: number;
  /** Set while the resubscription of a lost shard is being confirmed (see `onCanary`). */
  confirming?: boolean;
  /** Counts the subscriber ends seen for this shard: one during a confirmation voids it. */
  ends: number;
}

/**
 * This node's sharded pub/sub subscriptions (SSUBSCRIBE): a channel's shard channel is subscribed
 * while the node holds a member of it (and `lingerMs` after the last one left), so a node reads
 * nothing of rooms it does not hold; `all` is held by every node for ever. The model is the
 * redis-adapter's sharded adapter in `subscriptionMode: "dynamic"`, owned here because our publish
 * is a script (offset, history and SPUBLISH in one step) that the adapter cannot run.
 *
 * Each shard (master) has a canary: a message this node sends itself every 500 ms into a slot of
 * that shard. A subscriber can look connected while delivering nothing (seen after failovers), so
 * only the round trip proves the path. A shard whose canary is late, or whose subscriber connection
 * ended, is lost; when its canary is back the node is told, for that shard's held channels only,
 * to replay from history what it may have missed (`onGap`).
 */
export class ShardSubscriptions {
  private readonly held = new Map<string, { subscribed: Promise<void>; linger?: Cancel }>();
  private readonly shards = new Map<string, Shard>();
  private readonly gapListeners: GapListener[] = [];
  /** Resolved by a canary's round trip once no shard is lost (start waits for it). */
  private readonly flowingWaiters: Array<() => void> = [];
  private stopCanaries: Cancel = () => undefined;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;

  constructor(private readonly options: ShardSubscriptionsOptions) {
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? systemScheduler;
  }

  /** Subscribes `all` and a canary per shard, and resolves once every canary made a round trip. */
  async start(): Promise<void> {
    const { subscriber } = this.options;
    subscriber.on("smessage", (channel: string, text: string) => this.receive(channel, text));
    if (subscriber instanceof Cluster) {
      // A sharded subscriber ended (its master died, or the cluster moved it): that shard is lost.
      // The sharded subscriber group names the node; the connection pool's own "-node" does not.
      subscriber.on("-node", (redis: Redis | undefined, nodeKey?: string) =>
        this.lose(nodeKey ?? (redis ? `${redis.options.host}:${redis.options.port}` : undefined)),
      );
      subscriber.on("refresh", () => void this.watchShards().catch(() => undefined));
    } else {
      subscriber.on("close", () => this.lose());
    }
    await this.hold(ALL_CHANNEL);
    await this.watchShards();
    for (const shard of this.shards.values()) shard.lostAt = this.clock.now();
    const ready = new Promise<void>((resolve) => this.flowingWaiters.push(resolve));
    this.stopCanaries = this.scheduler.every(CANARY_EVERY_MS, () => this.tick());
    this.tick();
    await ready;
  }

  stop(): void {
    this.stopCanaries();
    for (const entry of this.held.values()) entry.linger?.();
  }

  /**
   * The node has a member of `channel` now: subscribe (or keep the lingering subscription).
   * Resolves once Redis confirmed, or after HOLD_WAIT_MS at most: a subscriber that is away keeps the
   * SSUBSCRIBE queued until it is back, and a join must not wait for that. A subscription that failed
   * or is late marks its shard lost, so the gap replay brings what the channel's sockets miss.
   */
  hold(channel: string): Promise<void> {
    const entry = this.held.get(channel);
    if (entry) {
      entry.linger?.();
      entry.linger = undefined;
      return entry.subscribed;
    }
    const confirmed = this.options.subscriber.ssubscribe(this.options.keys.channel(channel)).then(
      () => true,
      () => false,
    );
    const subscribed = new Promise<void>((resolve) => {
      const late = this.scheduler.after(HOLD_WAIT_MS, () => {
        this.loseShardOf(channel);
        resolve();
      });
      void confirmed.then((ok) => {
        late();
        if (!ok) this.loseShardOf(channel);
        resolve();
      });
    });
    this.held.set(channel, { subscribed });
    return subscribed;
  }

  /** The node's last member of `channel` left: unsubscribe after the linger, unless one comes back. */
  release(channel: string): void {
    const entry = this.held.get(channel);
    if (!entry || entry.linger || channel === ALL_CHANNEL) return;
    entry.linger = this.scheduler.after(this.options.lingerMs, () => {
      this.held.delete(channel);
      this.options.subscriber.sunsubscribe(this.options.keys.channel(channel)).catch(() => undefined);
    });
  }

  /** True while every shard's canary comes back. */
  isFlowing(): boolean {
    return !this.markStale();
  }

  onGap(listener: GapListener): void {
    this.gapListeners.push(listener);
  }

  /** How many channels this node is subscribed to (held or lingering), for metrics. */
  get size(): number {
    return this.held.size;
  }

  /**
   * While a shard is lost, its live messages are dropped: they are in the history, and the gap
   * replay that starts when the shard's canary is back sends them in order. Delivering them now would
   * move the node's last delivered offset past what it missed, and the replay would start after it.
   */
  private receive(channel: string, text: string): void {
    const shard = this.shards.get(channel);
    if (shard) return this.onCanary(shard);
    if (this.markStale() && this.shardOfName(channel)?.lostAt !== undefined) return;
    this.options.onMessage(text);
  }

  /**
   * A canary that is late means the shard stalled even if the connection never dropped: marks such
   * shards lost (here, not only on the timer, so that /health and delivery agree at every moment).
   * Returns whether any shard is lost.
   */
  private markStale(now = this.clock.now()): boolean {
    let lost = false;
    for (const shard of this.shards.values()) {
      if (shard.lostAt === undefined && now - shard.lastCanary > CANARY_STALE_MS) shard.lostAt = shard.lastCanary;
      lost ||= shard.lostAt !== undefined;
    }
    return lost;
  }

  private tick(): void {
    this.markStale();
    for (const shard of this.shards.values()) this.options.commands.spublish(shard.canary, "~").catch(() => undefined);
  }

  /**
   * A canary of a lost shard proves the canary's own subscription, not yet every channel's: the
   * client resubscribes a new master's channels in one go, in slot order, so some may still be on
   * their way. One more SSUBSCRIBE of the canary on that connection, answered in order, proves every
   * earlier one was done; only then may live messages flow again and the gap be replayed (the
   * replay's history read starts after it, so nothing falls between the two).
   */
  private onCanary(shard: Shard): void {
    shard.lastCanary = this.clock.now();
    if (shard.lostAt === undefined || shard.confirming) return;
    const ends = shard.ends;
    shard.confirming = true;
    this.options.subscriber.ssubscribe(shard.canary).then(
      () => {
        shard.confirming = false;
        // Lost again meanwhile: wait for the next canary.
        if (shard.ends !== ends || this.clock.now() - shard.lastCanary > CANARY_STALE_MS) return;
        this.found(shard);
      },
      () => {
        shard.confirming = false;
      },
    );
  }

  /** The lost shard flows again: its held channels replay from before it was lost. */
  private found(shard: Shard): void {
    const since = (shard.lostAt ?? this.clock.now()) - GAP_MARGIN_MS;
    shard.lostAt = undefined;
    const channels = [...this.held.keys()].filter((channel) => this.shardOf(channel) === shard);
    for (const listener of this.gapListeners) listener(since, channels);
    if ([...this.shards.values()].every((each) => each.lostAt === undefined)) {
      for (const resolve of this.flowingWaiters.splice(0)) resolve();
    }
  }

  private loseShardOf(channel: string): void {
    const shard = this.shardOf(channel);
    if (!shard) return this.lose();
    shard.lostAt ??= this.clock.now();
    shard.ends++;
  }

  /** Marks the shards of a subscriber that ended as lost (every shard when it cannot tell which). */
  private lose(nodeKey?: string): void {
    const now = this.clock.now();
    const mine =
      nodeKey === undefined ? [] : [...this.shards.values()].filter((s) => this.masterOf(s.canary) === nodeKey);
    for (const shard of mine.length > 0 ? mine : this.shards.values()) {
      shard.lostAt ??= now;
      shard.ends++;
    }
  }

  /**
   * One canary per master, named into one of its slots; called again when the cluster's slots
   * change, so that a new master gets one. A single Redis is one shard.
   */
  private async watchShards(): Promise<void> {
    const { subscriber, keys, nodeId } = this.options;
    const masters = subscriber instanceof Cluster ? new Set(subscriber.slots.map((nodes) => nodes[0])) : new Set([""]);
    const covered = new Set([...this.shards.keys()].map((canary) => this.masterOf(canary)));
    for (let i = 0; [...masters].some((master) => !covered.has(master)) && i < 10_000; i++) {
      const canary = keys.channel(`~canary.${nodeId}.${i}`);
      const master = this.masterOf(canary);
      if (covered.has(master) || !masters.has(master)) continue;
      covered.add(master);
      const now = this.clock.now();
      this.shards.set(canary, { canary, lastCanary: now, lostAt: now, ends: 0 });
      await subscriber.ssubscribe(canary);
    }
  }

  /** The master serving a name's slot now ("" on a single Redis). */
  private masterOf(name: string): string {
    const { subscriber } = this.options;
    return subscriber instanceof Cluster ? (subscriber.slots[slotOf(name)]?.[0] ?? "") : "";
  }

  private shardOf(channel: string): Shard | undefined {
    return this.shardOfName(this.options.keys.channel(channel));
  }

  /** The shard of a shard channel's name. */
  private shardOfName(name: string): Shard | undefined {
    const master = this.masterOf(name);
    return [...this.shards.values()].find((shard) => this.masterOf(shard.canary) === master);
  }
}
