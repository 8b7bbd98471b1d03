import type { EchoMember, EventData } from "@mechamap/protocol";
import type { Broadcaster, Cancel, ChannelMembers, Clock, Scheduler } from "./ports";

export interface ChannelPresenceOptions {
  members: ChannelMembers;
  broadcaster: Broadcaster;
  clock: Clock;
  scheduler: Scheduler;
  graceMs: number;
  onError: (error: unknown) => void;
}

/**
 * Laravel Echo's presence channels, cluster-wide: `presence:joining` on a user's first socket in the
 * channel, `presence:leaving` once the last one has been gone for the grace period (a reload or a move
 * to another node makes no events; a dead node's sockets leave through the store's heartbeats). Both
 * are ephemeral messages on the channel itself, through the one delivery path.
 */
export class ChannelPresence {
  private stopSweeper: Cancel = () => undefined;
  private sweeping = false;

  constructor(private readonly options: ChannelPresenceOptions) {}

  start(): void {
    // A quarter of the grace keeps the leaving event within 25 % of its due time.
    const every = Math.max(25, Math.min(1000, Math.floor(this.options.graceMs / 4)));
    this.stopSweeper = this.options.scheduler.every(every, () => this.sweep());
  }

  stop(): void {
    this.stopSweeper();
  }

  /**
   * Counts the socket in and answers the channel's members (the user included, each user once).
   * The other members hear `presence:joining` when this is the user's first socket there.
   */
  async join(channel: string, member: EchoMember, socketId: string): Promise<EchoMember[]> {
    const { members, broadcaster, clock } = this.options;
    const first = await members.join(channel, member, socketId, clock.now());
    if (first) await broadcaster.signal({ channel, event: "presence:joining", data: asData(member), except: socketId });
    return members.list(channel);
  }

  members(channel: string): Promise<EchoMember[]> {
    return this.options.members.list(channel);
  }

  async leave(channel: string, userId: string, socketId: string): Promise<void> {
    const { members, clock, graceMs } = this.options;
    await members.leave(channel, userId, socketId, clock.now() + graceMs);
  }

  /** Announces `presence:leaving` for every membership whose grace ran out. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const { members, broadcaster, clock } = this.options;
      for (const { channel, member } of await members.takeExpired(clock.now())) {
        await broadcaster.signal({ channel, event: "presence:leaving", data: asData(member) });
      }
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.sweeping = false;
    }
  }
}

/** Only `user_id` and `user_info` go out: never a socket id of another user. */
function asData(member: EchoMember): EventData {
  return { user_id: member.user_id, user_info: member.user_info ?? null };
}
