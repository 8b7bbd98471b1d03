import type { Column, RunRecord } from "../scenarios/scenario";
import type { TargetName } from "../targets/target";

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export type TargetSummary = Record<string, Spread>;

export function spread(values: number[]): Spread | undefined {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const middle = Math.floor(finite.length / 2);
  const median = finite.length % 2 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2;
  return { median, min: finite[0], max: finite[finite.length - 1], n: finite.length };
}

/** Median [min–max] per target and column, over the runs that succeeded. */
export function summarise(records: RunRecord[], columns: Column[], targets: TargetName[]) {
  const summary: Partial<Record<TargetName, TargetSummary>> = {};
  const keys = new Set([...columns.map((c) => c.key), ...records.flatMap((r) => Object.keys(r.metrics))]);
  for (const target of targets) {
    const runs = records.filter((r) => r.target === target && r.ok);
    const perKey: TargetSummary = {};
    for (const key of keys) {
      const value = spread(runs.map((r) => r.metrics[key]).filter((v) => v !== undefined));
      if (value) perKey[key] = value;
    }
    summary[target] = perKey;
  }
  return summary;
}

export function formatSpread(value: Spread | undefined, digits: number): string {
  if (!value) return "—";
  const f = (n: number): string => n.toFixed(digits);
  return value.n === 1 || f(value.min) === f(value.max)
    ? f(value.median)
    : `${f(value.median)} [${f(value.min)}–${f(value.max)}]`;
}
