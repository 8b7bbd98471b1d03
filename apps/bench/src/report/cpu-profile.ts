import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** The parts of a V8 .cpuprofile (written by `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  percent: number;
}

/** Self time by function and by package (node_modules/<pkg>, the app's own files, node internals). */
export function analyseProfile(file: string, top = 15): { functions: HotSpot[]; packages: HotSpot[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id);
    // Percentages are of busy time: idle says nothing about where the CPU goes.
    if (!frame || frame.functionName === "(idle)") return;
    total += micros;
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : "";
    const name = `${frame.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    packages.set(packageOf(frame), (packages.get(packageOf(frame)) ?? 0) + micros);
  });
  const rank = (map: Map<string, number>): HotSpot[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, selfMs: micros / 1000, percent: total > 0 ? (100 * micros) / total : 0 }));
  return { functions: rank(functions), packages: rank(packages), totalMs: total / 1000 };
}

export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(".cpuprofile"))
      .map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

export function formatHotSpots(file: string, top = 15): string {
  const { functions, packages, totalMs } = analyseProfile(file, top);
  const rows = (spots: HotSpot[]): string[] =>
    spots.map((s) => `| ${s.percent.toFixed(1)} % | ${s.selfMs.toFixed(0)} | \`${s.name.replace(/\|/g, "\\|")}\` |`);
  return [
    `#### ${path.basename(file)} (${(totalMs / 1000).toFixed(1)} s busy, idle excluded)`,
    "",
    "| self | ms | package |",
    "|---:|---:|---|",
    ...rows(packages),
    "",
    "| self | ms | function |",
    "|---:|---:|---|",
    ...rows(functions),
    "",
  ].join("\n");
}

function shortUrl(url: string): string {
  const inModules = url.lastIndexOf("node_modules/");
  if (inModules >= 0) return url.slice(inModules + "node_modules/".length);
  const inApps = url.indexOf("/apps/");
  if (inApps >= 0) return url.slice(inApps + 1);
  return url.replace(/^file:\/\//, "");
}

function packageOf(frame: { functionName: string; url: string }): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  // The innermost package: echo's socket.io lives in laravel-echo-server/node_modules/socket.io.
  const matches = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (matches.length > 0) return matches[matches.length - 1][1];
  if (url.startsWith("node:")) return "node:internal";
  if (url.includes("/apps/realtime/")) return "apps/realtime";
  if (url.includes("/packages/protocol/")) return "packages/protocol";
  return "other";
}
