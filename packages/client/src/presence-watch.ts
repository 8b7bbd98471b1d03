import { normaliseId } from "@mechamap/protocol";
import type { PresenceListener } from "./types.js";

/**
 * Watched users, their listeners and what is known of them. The server forgets a socket's watch
 * list with the socket; after a reconnect `rewatch()` asks again and reports what changed meanwhile.
 */
export class PresenceWatch {
  private readonly listeners = new Map<string, Set<PresenceListener>>();
  private readonly online = new Set<string>();
  /** Per `presence:watch` on its way: the users a change was heard for before its answer. */
  private readonly asking = new Set<Set<string>>();

  /** Adds the users and their listener; returns the ids, normalised to strings. */
  add(userIds: Array<string | number>, listener: PresenceListener): string[] {
    const ids = userIds.map((id) => {
      const normalised = normaliseId(id);
      if (normalised === undefined) throw new TypeError(`not a user id: ${String(id)}`);
      return normalised;
    });
    for (const id of ids) {
      let set = this.listeners.get(id);
      if (!set) this.listeners.set(id, (set = new Set()));
      set.add(listener);
    }
    return ids;
  }

  get watched(): string[] {
    return [...this.listeners.keys()];
  }

  /** Call before sending a `presence:watch`; hand what it returns to `answered`. */
  ask(): Set<string> {
    const heard = new Set<string>();
    this.asking.add(heard);
    return heard;
  }

  isOnline(userId: string): boolean {
    return this.online.has(userId);
  }

  /** A `user_online` / `user_offline` from the server. */
  changed(userId: string, online: boolean, at: string): void {
    for (const heard of this.asking) heard.add(userId);
    if (online) this.online.add(userId);
    else this.online.delete(userId);
    for (const listener of [...(this.listeners.get(userId) ?? [])]) listener({ user_id: userId, online, at });
  }

  /**
   * The answer to `presence:watch` for `ids`: silent on first sight, a change after a reconnect. The
   * server subscribes before it looks up, so a change heard before the answer (`heard`, from `ask`)
   * is at least as new as the answer's snapshot: for those users the change stands.
   */
  answered(ids: string[], online: string[], announce: boolean, heard: Set<string>): void {
    this.asking.delete(heard);
    const now = new Date().toISOString();
    const up = new Set(online);
    for (const id of ids) {
      if (heard.has(id) || up.has(id) === this.online.has(id)) continue;
      if (announce) this.changed(id, up.has(id), now);
      else if (up.has(id)) this.online.add(id);
      else this.online.delete(id);
    }
  }
}
