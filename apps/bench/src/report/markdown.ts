import type { Column, RunRecord, Scenario } from "../scenarios/scenario";
import type { TargetName } from "../targets/target";
import { formatSpread, Spread, summarise } from "./summary";

export interface ReportHeader {
  date: string;
  machine: string;
}

/** Ratios worth reading at a glance: ours against the baseline and against the limit. */
const RATIO_KEYS = [
  "cpuUsPerDelivery",
  "cpuUsPerCall",
  "serverCpuPct",
  "p50Ms",
  "p99Ms",
  "rssMbPer1000At5000",
  "heapKbPerConnAt5000",
];

export function markdownReport(
  scenario: Scenario,
  records: RunRecord[],
  targets: TargetName[],
  header: ReportHeader,
): string {
  const summary = summarise(records, scenario.columns, targets);
  const lines = [
    `### ${scenario.title}`,
    "",
    `${header.date} · ${header.machine} · median [min–max] of ${maxRuns(records)} run(s) per target, interleaved`,
    "",
    `| target | ${scenario.columns.map((c) => c.label).join(" | ")} |`,
    `|---|${scenario.columns.map(() => "---:").join("|")}|`,
  ];
  for (const target of targets) {
    const okRuns = records.filter((r) => r.target === target && r.ok).length;
    const cells = scenario.columns.map((c) => cell(summary[target]?.[c.key], c, okRuns));
    const failed = records.filter((r) => r.target === target && !r.ok).length;
    lines.push(`| ${target}${failed ? ` (${failed} failed)` : ""} | ${cells.join(" | ")} |`);
  }
  const ratios = ratioLines(scenario, summary);
  if (ratios.length > 0) lines.push("", ...ratios);
  const noisy = records.filter((r) => r.noise.length > 0);
  if (noisy.length > 0) {
    lines.push("", "⚠ disturbed runs (figures kept, read with care):");
    for (const r of noisy) lines.push(`- ${r.target} run ${r.run}: ${r.noise.join(", ")}`);
  }
  const retried = records.reduce((sum, r) => sum + (r.discarded?.length ?? 0), 0);
  if (retried > 0)
    lines.push("", `${retried} disturbed attempt(s) were run again (kept under \`discarded\` in the JSON).`);
  const failures = records.filter((r) => !r.ok);
  for (const r of failures) lines.push("", `✗ ${r.target} run ${r.run}: ${r.error ?? r.problems.join("; ")}`);
  return `${lines.join("\n")}\n`;
}

/** median [min–max]; with `missing`, runs without a figure say so ("2.0; 1× not recovered"). */
function cell(value: Spread | undefined, column: Column, okRuns: number): string {
  if (!column.missing) return formatSpread(value, column.digits);
  const without = okRuns - (value?.n ?? 0);
  if (!value) return okRuns > 0 ? column.missing : "—";
  return without > 0
    ? `${formatSpread(value, column.digits)}; ${without}× ${column.missing}`
    : formatSpread(value, column.digits);
}

/** Ours against its peers: the single-node targets, and the cluster targets (S4, S5) against each other. */
const RATIO_PAIRS: Array<[TargetName, TargetName[]]> = [
  ["ours", ["ours-base", "bare", "ws", "echo"]],
  ["ours-cluster", ["ours-cluster-base", "bare-cluster", "sharded-cluster"]],
];

function ratioLines(scenario: Scenario, summary: ReturnType<typeof summarise>): string[] {
  const lines: string[] = [];
  for (const key of RATIO_KEYS) {
    const column = scenario.columns.find((c) => c.key === key);
    if (!column) continue;
    const parts = RATIO_PAIRS.flatMap(([mine, peers]) => {
      const own = summary[mine]?.[key];
      if (!own) return [];
      return peers
        .filter((peer) => summary[peer]?.[key]?.median)
        .map((peer) => `${mine}/${peer} ${(own.median / summary[peer]![key].median).toFixed(2)}×`);
    });
    if (parts.length > 0) lines.push(`- ${column.label}: ${parts.join(", ")}`);
  }
  return lines;
}

function maxRuns(records: RunRecord[]): number {
  return Math.max(0, ...records.map((r) => r.run));
}

/** The column legend, for the docs and the end of the .md file; columns sharing a meaning share a line. */
export function legend(scenario: Scenario): string {
  const byDoc = new Map<string, string[]>();
  for (const column of scenario.columns) {
    if (column.doc) byDoc.set(column.doc, [...(byDoc.get(column.doc) ?? []), column.label]);
  }
  return [...byDoc.entries()].map(([doc, labels]) => `- **${labels.join("**, **")}**: ${doc}`).join("\n");
}
