import { randomUUID } from "node:crypto";
import type { LaravelInbox } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";
import { RedisScript } from "../cluster/redis-script";

/** Extends the lease while this node holds it (compare and expire). */
const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** Gives the lease up, if it is still this node's. */
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export interface RedisLaravelInboxOptions {
  /** Lease commands. */
  commands: RedisClient;
  /** A connection of its own for PSUBSCRIBE. */
  subscriber: RedisClient;
  /** Our key prefix (the lease's key; channels under it are ours, never Laravel's). */
  keyPrefix: string;
  /** Laravel's Redis prefixes (`laravel_database_`; `*` matches any app name). */
  laravelPrefixes: string[];
  nodeId: string;
  /** How long a lease lasts without renewal: the longest a crashed holder leaves nobody taking in. */
  leaseMs?: number;
  onError: (error: unknown) => void;
}

/**
 * Laravel's RedisBroadcaster publishes each event once, to every subscriber: with every node
 * subscribed, each would take it in and it would be delivered once per node. So every node keeps its
 * PSUBSCRIBE (no subscribe delay on a handover), but only the holder of a Redis lease takes messages
 * in; the others drop theirs. The lease (SET NX PX, renewed by compare-and-expire) is tried every
 * eighth of its length by every node, and taken over by one when its holder stops renewing (a crash:
 * within `leaseMs`) or gives it up (a graceful stop: within an eighth of it). A holder stops taking
 * in as soon as its own deadline (measured from before the renewal was sent) passes, even if Redis is
 * out of reach, so two nodes never take in at once. Pub/sub keeps nothing: what Laravel publishes
 * while nobody holds the lease is lost, which is why the `realtime` broadcasting driver is preferred.
 */
export class RedisLaravelInbox implements LaravelInbox {
  private readonly token: string;
  private readonly leaseKey: string;
  private readonly leaseMs: number;
  private readonly patterns: Map<string, RegExp>;
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly options: RedisLaravelInboxOptions) {
    this.token = `${options.nodeId}:${randomUUID()}`;
    this.leaseKey = `${options.keyPrefix}laravel-inbox:lease`;
    this.leaseMs = options.leaseMs ?? 2000;
    this.patterns = new Map(options.laravelPrefixes.map((prefix) => [`${prefix}*`, prefixPattern(prefix)]));
  }

  async start(take: (channel: string, payload: string) => void): Promise<void> {
    const { subscriber, keyPrefix } = this.options;
    subscriber.on("pmessage", (pattern: string, channel: string, payload: string) => {
      const prefix = this.patterns.get(pattern);
      if (!prefix || !this.holds() || channel.startsWith(keyPrefix)) return;
      const match = prefix.exec(channel);
      if (match) take(channel.slice(match[0].length), payload);
    });
    await subscriber.psubscribe(...this.patterns.keys());
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(10, Math.floor(this.leaseMs / 8)));
    this.timer.unref();
  }

  /** Whether this node takes messages in right now. */
  holds(): boolean {
    return Date.now() < this.heldUntil;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const held = this.heldUntil > 0;
    this.heldUntil = 0;
    await this.options.subscriber.punsubscribe().catch(() => undefined);
    if (held) await RELEASE.run(this.options.commands, [this.leaseKey], [this.token]).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const sentAt = Date.now();
    try {
      const { commands } = this.options;
      const renewed =
        this.heldUntil > 0 && (await RENEW.run(commands, [this.leaseKey], [this.token, this.leaseMs])) === 1;
      const taken = renewed || (await commands.set(this.leaseKey, this.token, "PX", this.leaseMs, "NX")) === "OK";
      // A small margin under the lease: Redis may have started the lease's clock a little later.
      this.heldUntil = taken ? sentAt + this.leaseMs - Math.min(250, this.leaseMs / 8) : 0;
    } catch (error) {
      // Redis away: keep what we hold until its deadline passes on its own.
      this.options.onError(error);
    } finally {
      this.ticking = false;
    }
  }
}

/** `laravel_database_` → /^laravel_database_/; `*-database-` → /^.*?-database-/ (the app name). */
function prefixPattern(prefix: string): RegExp {
  const parts = prefix.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*?")}`);
}
