import type { IncomingMessage } from "node:http";

/**
 * The client's address as seen by the outermost of `proxyHops` trusted proxies: nginx appends the
 * address it got the request from to `X-Forwarded-For`, so with one proxy the last entry is the
 * client and anything to its left was written by the client itself (and may be forged). With no
 * header, or `proxyHops` 0, the TCP peer.
 */
export function clientIp(req: IncomingMessage, proxyHops: number): string {
  const peer = req.socket.remoteAddress ?? "";
  const header = req.headers["x-forwarded-for"];
  if (proxyHops === 0 || typeof header !== "string") return unmapped(peer);
  const entries = header
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return unmapped(peer);
  return unmapped(entries[Math.max(0, entries.length - proxyHops)]).slice(0, 64);
}

/** Loopback clients (local tools, health checks, the benchmark) are not rate-limited. */
export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.");
}

const unmapped = (ip: string): string => (ip.startsWith("::ffff:") ? ip.slice(7) : ip);
