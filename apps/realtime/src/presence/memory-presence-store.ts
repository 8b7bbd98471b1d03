import type { OnlinePage, PresenceStore, UserPresence } from "../core/ports";

interface OnlineUser {
  sockets: Set<string>;
  /** Set while the user has no socket: when the grace runs out. */
  offlineAt: number | null;
}

/** Remembered last-seen times; the oldest are forgotten first past this many users. */
const MAX_LAST_SEEN = 100_000;

/** Presence of one process's users (embedded mode). */
export class MemoryPresenceStore implements PresenceStore {
  private readonly online = new Map<string, OnlineUser>();
  private readonly lastSeen = new Map<string, number>();
  /** Places held by `reserve`: user → socket → until. */
  private readonly places = new Map<string, Map<string, number>>();

  async reserve(userId: string, socketId: string, limit: number, now: number, until: number): Promise<boolean> {
    const held = this.placesOf(userId, now);
    if ((this.online.get(userId)?.sockets.size ?? 0) + (held?.size ?? 0) >= limit) return false;
    if (held) held.set(socketId, until);
    else this.places.set(userId, new Map([[socketId, until]]));
    return true;
  }

  async connect(userId: string, socketId: string, now: number): Promise<boolean> {
    const held = this.places.get(userId);
    if (held?.delete(socketId) && held.size === 0) this.places.delete(userId);
    const user = this.online.get(userId);
    this.remember(userId, now);
    if (user) {
      user.sockets.add(socketId);
      user.offlineAt = null;
      return false;
    }
    this.online.set(userId, { sockets: new Set([socketId]), offlineAt: null });
    return true;
  }

  async disconnect(userId: string, socketId: string, offlineAt: number): Promise<void> {
    const user = this.online.get(userId);
    if (!user || !user.sockets.delete(socketId)) return;
    if (user.sockets.size === 0) user.offlineAt = offlineAt;
  }

  async takeExpired(now: number): Promise<string[]> {
    for (const userId of this.places.keys()) this.placesOf(userId, now);
    const expired: string[] = [];
    for (const [userId, user] of this.online) {
      if (user.offlineAt !== null && user.offlineAt <= now) {
        this.online.delete(userId);
        this.remember(userId, user.offlineAt);
        expired.push(userId);
      }
    }
    return expired;
  }

  async lookup(userIds: string[]): Promise<Map<string, UserPresence>> {
    const found = new Map<string, UserPresence>();
    for (const userId of userIds) {
      const user = this.online.get(userId);
      found.set(userId, {
        online: user !== undefined,
        connections: user?.sockets.size ?? 0,
        lastSeen: this.lastSeen.get(userId) ?? null,
      });
    }
    return found;
  }

  async listOnline(limit: number, cursor: string | null): Promise<OnlinePage> {
    const ids = [...this.online.keys()].sort();
    const start = cursor === null ? 0 : ids.findIndex((id) => id > cursor);
    const page = start < 0 ? [] : ids.slice(start, start + limit);
    const more = start >= 0 && start + limit < ids.length;
    return { count: ids.length, userIds: page, nextCursor: more ? page[page.length - 1] : null };
  }

  /** A user's places still held at `now` (the others are dropped). */
  private placesOf(userId: string, now: number): Map<string, number> | undefined {
    const held = this.places.get(userId);
    if (!held) return undefined;
    for (const [socketId, until] of held) if (until <= now) held.delete(socketId);
    if (held.size > 0) return held;
    this.places.delete(userId);
    return undefined;
  }

  private remember(userId: string, at: number): void {
    this.lastSeen.delete(userId);
    this.lastSeen.set(userId, at);
    if (this.lastSeen.size > MAX_LAST_SEEN) this.lastSeen.delete(this.lastSeen.keys().next().value as string);
  }
}
