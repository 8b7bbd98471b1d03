import { randomUUID } from "node:crypto";
import type { PresenceChange } from "@mechamap/protocol";
import type {
  Broadcaster,
  Cancel,
  Clock,
  PresenceNotifier,
  PresenceStore,
  PresenceTransition,
  Scheduler,
} from "./ports";

/** Room of the sockets watching one user's presence (joined by `presence:watch`). */
export const presenceChannel = (userId: string): string => `presence.${userId}`;

export interface PresenceServiceOptions {
  store: PresenceStore;
  broadcaster: Broadcaster;
  notifier: PresenceNotifier;
  clock: Clock;
  scheduler: Scheduler;
  graceMs: number;
  onError: (error: unknown) => void;
}

/**
 * Turns socket connects and disconnects into `user_online` / `user_offline`, once per cluster-wide
 * transition: a user is offline after having no socket for the whole grace period.
 */
export class PresenceService {
  private stopSweeper: Cancel = () => undefined;
  private sweeping = false;

  constructor(private readonly options: PresenceServiceOptions) {}

  start(): void {
    // A quarter of the grace keeps the offline event within 25 % of its due time.
    const every = Math.max(25, Math.min(1000, Math.floor(this.options.graceMs / 4)));
    this.stopSweeper = this.options.scheduler.every(every, () => this.sweep());
  }

  stop(): void {
    this.stopSweeper();
  }

  /**
   * Whether a user may open one more socket (`limit` cluster-wide): holds a place for it until it
   * connects, or for `holdMs` when its handshake does not complete.
   */
  admit(userId: string, socketId: string, limit: number, holdMs: number): Promise<boolean> {
    const now = this.options.clock.now();
    return this.options.store.reserve(userId, socketId, limit, now, now + holdMs);
  }

  async connected(userId: string, socketId: string): Promise<void> {
    const now = this.options.clock.now();
    if (await this.options.store.connect(userId, socketId, now)) await this.announce("user_online", userId, now);
  }

  async disconnected(userId: string, socketId: string): Promise<void> {
    const { store, clock, graceMs } = this.options;
    await store.disconnect(userId, socketId, clock.now() + graceMs);
  }

  /** Emits `user_offline` for every user whose grace ran out. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const now = this.options.clock.now();
      for (const userId of await this.options.store.takeExpired(now)) await this.announce("user_offline", userId, now);
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.sweeping = false;
    }
  }

  private async announce(event: PresenceTransition["event"], userId: string, now: number): Promise<void> {
    const change: PresenceChange = { user_id: userId, at: new Date(now).toISOString() };
    this.options.notifier.notify({ id: randomUUID(), event, ...change });
    await this.options.broadcaster.signal({ channel: presenceChannel(userId), event, data: { ...change } });
  }
}
