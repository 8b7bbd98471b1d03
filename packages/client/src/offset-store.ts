import type { OffsetStorage } from "./types.js";

export const KEY_PREFIX = "mechamap-realtime:";

/**
 * The newest offset handed to the app, per channel, in `storage` under
 * `mechamap-realtime:<user id>:<channel>`: per user, so that two users in one tab (or a logout and
 * another login) never lend each other offsets. Storage errors (quota, privacy modes) only cost the
 * recovery after a reload; the offsets of this page are kept in memory as well.
 */
export class OffsetStore {
  private readonly memory = new Map<string, string>();
  private scope = "guest";

  constructor(private readonly storage: OffsetStorage | undefined) {}

  /** Offsets belong to the user of the token (`sub`); guests share the `guest` scope. */
  useScope(userId: string | undefined): void {
    const scope = userId ?? "guest";
    if (scope !== this.scope) this.memory.clear();
    this.scope = scope;
  }

  get(channel: string): string | undefined {
    const known = this.memory.get(channel);
    if (known !== undefined) return known;
    try {
      return this.storage?.getItem(this.key(channel)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  set(channel: string, offset: string): void {
    this.memory.set(channel, offset);
    try {
      this.storage?.setItem(this.key(channel), offset);
    } catch {
      // Kept in memory: enough for reconnects.
    }
  }

  remove(channel: string): void {
    this.memory.delete(channel);
    try {
      this.storage?.removeItem(this.key(channel));
    } catch {
      // Nothing to clean.
    }
  }

  private key(channel: string): string {
    return `${KEY_PREFIX}${this.scope}:${channel}`;
  }
}
