/**
 * Whether a browser `Origin` may use the node (open sockets, read API answers), from `CORS_ORIGINS`:
 * exact origins, `*` for any, and `scheme://*.domain[:port]` for every subdomain of `domain` at any
 * depth (not `domain` itself: list it too). Scheme and port must match exactly; comparison ignores case.
 */
export type OriginAllowlist = (origin: string) => boolean;

export function createOriginAllowlist(origins: string[]): OriginAllowlist {
  if (origins.includes("*")) return () => true;
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const origin of origins) {
    const wildcard = /^(https?:\/\/)\*\.(.+)$/.exec(origin);
    if (!wildcard) exact.add(origin.toLowerCase());
    else patterns.push(new RegExp(`^${escape(wildcard[1])}([a-z0-9-]+\\.)+${escape(wildcard[2].toLowerCase())}$`));
  }
  return (origin) => {
    const normalised = origin.toLowerCase();
    return exact.has(normalised) || patterns.some((pattern) => pattern.test(normalised));
  };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
