import { systemClock, systemScheduler } from "../core/ports";
import type { Cancel, Clock, Scheduler } from "../core/ports";
import type { RedisClient } from "../cluster/redis-connections";
import { KeySpace } from "../cluster/key-space";
import { RedisScript } from "../cluster/redis-script";

/**
 * Forgets the dead nodes (ARGV[2..]) whose last beat is still at most ARGV[1]: a node that beat
 * again in the meantime (a long pause, a restart under the same NODE_ID) stays.
 */
const FORGET = new RedisScript(`
local cutoff = tonumber(ARGV[1])
for k = 2, #ARGV do
  local beat = redis.call('ZSCORE', KEYS[1], ARGV[k])
  if beat and tonumber(beat) <= cutoff then redis.call('ZREM', KEYS[1], ARGV[k]) end
end
return 1
`);

/** A store that registers this node's sockets in Redis and must reap those of dead nodes. */
export interface HeartbeatMember {
  /** Registers this node's sockets again where Redis lost them (a restart, a failover). */
  check(): Promise<void>;
  /**
   * Moves the dead nodes' sockets into the grace (no event yet), each exactly once cluster-wide:
   * whatever is reaped is deleted in the same script, so a second reaper finds nothing.
   */
  reap(deadNodes: string[], now: number): Promise<void>;
}

export interface NodeHeartbeatOptions {
  redis: RedisClient;
  prefix: string;
  nodeId: string;
  nodeTtlMs: number;
  onError: (error: unknown) => void;
  /** The beats' time, which must be the sweeps' (`reapDead(now)`) time. */
  clock?: Clock;
  scheduler?: Scheduler;
}

/**
 * The node's heartbeat, one for every store that counts its sockets in Redis (user presence, Echo
 * presence channels): one ZSET `<prefix>p:hb` (node → last beat). A node silent for NODE_TTL_MS is
 * dead; it leaves the ZSET only once every member store reaped it, so no store misses a dead node
 * that another store's sweep saw first.
 */
export class NodeHeartbeat {
  private readonly members: HeartbeatMember[] = [];
  private readonly clock: Clock;
  private readonly key: string;
  private stopBeating: Cancel | null = null;
  private stopped: Promise<void> | null = null;
  /** The reaping under way on this node: its stores' sweeps share it instead of reaping side by side. */
  private reaping: Promise<void> | null = null;

  constructor(private readonly options: NodeHeartbeatOptions) {
    this.clock = options.clock ?? systemClock;
    this.key = new KeySpace(options.prefix).heartbeats();
  }

  add(member: HeartbeatMember): void {
    this.members.push(member);
  }

  /**
   * Reaps what an earlier process under this NODE_ID left registered (a crash, then a restart
   * within NODE_TTL_MS: its beats would keep those sockets alive for ever). Run before this
   * process registers anything; its users leave after the grace unless they come back.
   */
  async reapEarlierSelf(): Promise<void> {
    const now = this.clock.now();
    await Promise.all(this.members.map((member) => member.reap([this.options.nodeId], now)));
  }

  /** Beats at once and then every third of NODE_TTL_MS; a second call does nothing. */
  start(): void {
    if (this.stopBeating) return;
    const beat = async (): Promise<void> => {
      await this.options.redis.zadd(this.key, this.clock.now(), this.options.nodeId);
      await Promise.all(this.members.map((member) => member.check()));
    };
    const every = Math.max(200, Math.floor(this.options.nodeTtlMs / 3));
    this.stopBeating = (this.options.scheduler ?? systemScheduler).every(every, () =>
      beat().catch(this.options.onError),
    );
    void beat().catch(this.options.onError);
  }

  /**
   * Stops beating and marks this node dead at once, so that whatever it still held (a drain cut
   * short) is reaped by another node's next sweep instead of after NODE_TTL_MS. Once, however many
   * stores stop it.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopBeating?.();
      await this.options.redis.zadd(this.key, 0, this.options.nodeId).catch(() => undefined);
    })();
    return this.stopped;
  }

  /**
   * Reaps, in every member store, the nodes silent since `now - NODE_TTL_MS`, then forgets them. A
   * sweep that fails half way leaves them to the next one, which finds nothing reaped twice.
   */
  reapDead(now: number): Promise<void> {
    this.reaping ??= this.reap(now).finally(() => (this.reaping = null));
    return this.reaping;
  }

  private async reap(now: number): Promise<void> {
    const cutoff = now - this.options.nodeTtlMs;
    const dead = await this.options.redis.zrangebyscore(this.key, "-inf", cutoff);
    if (dead.length === 0) return;
    await Promise.all(this.members.map((member) => member.reap(dead, now)));
    await FORGET.run(this.options.redis, [this.key], [cutoff, ...dead]);
  }
}
