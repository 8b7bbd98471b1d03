import { execFileSync } from "node:child_process";

/**
 * What each process has received from Redis so far: the TCP `bytes_received` (kernel tcp_info) of
 * every established connection to 127.0.0.1 on any of `ports` (one Redis, or every server of a Redis
 * Cluster: a node there has connections to several masters, a sharded subscriber one per master),
 * from `ss -tinp`, summed by pid. Redis 7.0's CLIENT LIST has no per-client byte counters; the
 * kernel's are exact and cost one `ss` call. Processes `ss` cannot name (not ours) count under
 * pid 0. Empty when `ss` is missing.
 */
export function redisBytesByPid(ports: number[]): Map<number, number> {
  if (ports.length === 0) return new Map();
  const filter = ports.flatMap((port, i) => [...(i > 0 ? ["or"] : []), "dst", `127.0.0.1:${port}`]);
  try {
    const text = execFileSync("ss", ["-tinpH", "state", "established", "(", ...filter, ")"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    });
    return parseSsBytesReceived(text);
  } catch {
    return new Map();
  }
}

/** `ss -tinp` output → bytes received per pid (a connection line, then its indented tcp_info line). */
export function parseSsBytesReceived(text: string): Map<number, number> {
  const byPid = new Map<number, number>();
  let pid = 0;
  for (const line of text.split("\n")) {
    const owner = /pid=(\d+)/.exec(line);
    if (!/^\s/.test(line)) {
      pid = owner ? Number(owner[1]) : 0;
      continue;
    }
    const bytes = /\bbytes_received:(\d+)/.exec(line);
    if (bytes) byPid.set(pid, (byPid.get(pid) ?? 0) + Number(bytes[1]));
  }
  return byPid;
}

/** Bytes per pid received between two snapshots (a connection closed meanwhile counts as 0). */
export function bytesDelta(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  const delta = new Map<number, number>();
  for (const [pid, bytes] of after) delta.set(pid, Math.max(0, bytes - (before.get(pid) ?? 0)));
  return delta;
}
