/** Keys that could reach an object's prototype if a body were ever merged: refused wherever JSON comes in. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const MAY_HOLD_FORBIDDEN_KEY = /"(__proto__|constructor|prototype)"/;

/**
 * The path of the first forbidden key in the JSON `text` parsed as `value`, or undefined. The scan is
 * only paid for texts that mention a dangerous key at all.
 */
export function forbiddenKeyIn(text: string, value: unknown): string | undefined {
  return MAY_HOLD_FORBIDDEN_KEY.test(text) ? findForbiddenKey(value, "") : undefined;
}

function findForbiddenKey(value: unknown, path: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  for (const key of Object.keys(value)) {
    const here = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return here;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], here);
    if (found !== undefined) return found;
  }
  return undefined;
}
