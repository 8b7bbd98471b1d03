import { KEY_PREFIX } from "../../src/index.js";
import type { OffsetStorage } from "../../src/index.js";

export { KEY_PREFIX };

/** A Storage that outlives clients, as sessionStorage outlives a page: reloads in Node. */
export function memoryStorageForTests(): OffsetStorage & { keys(): string[] } {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    keys: () => [...items.keys()],
  };
}
