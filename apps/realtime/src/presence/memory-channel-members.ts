import type { EchoMember } from "@mechamap/protocol";
import type { ChannelMemberLeft, ChannelMembers } from "../core/ports";

interface Membership {
  member: EchoMember;
  sockets: Set<string>;
  /** Set while the user has no socket in the channel: when the grace runs out. */
  leaveAt: number | null;
}

/** Presence-channel members of one process (embedded mode). */
export class MemoryChannelMembers implements ChannelMembers {
  /** channel → user id → membership. */
  private readonly channels = new Map<string, Map<string, Membership>>();

  async join(channel: string, member: EchoMember, socketId: string, _now: number): Promise<boolean> {
    const users = this.channels.get(channel) ?? new Map<string, Membership>();
    this.channels.set(channel, users);
    const userId = String(member.user_id);
    const known = users.get(userId);
    if (known) {
      known.sockets.add(socketId);
      known.member = member;
      known.leaveAt = null;
      return false;
    }
    users.set(userId, { member, sockets: new Set([socketId]), leaveAt: null });
    return true;
  }

  async leave(channel: string, userId: string, socketId: string, leaveAt: number): Promise<void> {
    const membership = this.channels.get(channel)?.get(userId);
    if (!membership || !membership.sockets.delete(socketId)) return;
    if (membership.sockets.size === 0) membership.leaveAt = leaveAt;
  }

  async takeExpired(now: number): Promise<ChannelMemberLeft[]> {
    const left: ChannelMemberLeft[] = [];
    for (const [channel, users] of this.channels) {
      for (const [userId, membership] of users) {
        if (membership.leaveAt === null || membership.leaveAt > now) continue;
        users.delete(userId);
        left.push({ channel, member: membership.member });
      }
      if (users.size === 0) this.channels.delete(channel);
    }
    return left;
  }

  async list(channel: string): Promise<EchoMember[]> {
    return [...(this.channels.get(channel)?.values() ?? [])].map((membership) => membership.member);
  }
}
