import type { OffsetStorage } from "./types.js";

/** The `storage` option resolved: the given one, none for `false`, else sessionStorage or memory. */
export function resolveStorage(option: OffsetStorage | false | undefined): OffsetStorage | undefined {
  if (option === false) return undefined;
  return option ?? browserSessionStorage() ?? memoryStorage();
}

/** A Storage in memory: offsets survive reconnects of this page, not a reload. */
export function memoryStorage(): OffsetStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

function browserSessionStorage(): OffsetStorage | undefined {
  try {
    // Reading `sessionStorage` throws in sandboxed iframes and with storage blocked.
    return typeof sessionStorage === "undefined" ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}
