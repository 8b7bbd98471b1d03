import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RunRecord, Scenario } from "../scenarios/scenario";
import type { TargetName } from "../targets/target";
import { legend, markdownReport, ReportHeader } from "./markdown";
import { summarise } from "./summary";
import { svgChart } from "./svg-chart";

export interface WrittenResults {
  markdown: string;
  files: string[];
}

/** `<dir>/<date>-<scenario>.json|.md|.svg`: every run's figures, the summary table, the chart. */
export function writeResults(
  dir: string,
  scenario: Scenario,
  records: RunRecord[],
  targets: TargetName[],
  header: ReportHeader & { environment: object },
): WrittenResults {
  mkdirSync(dir, { recursive: true });
  const stem = path.join(dir, `${header.date.replace(/[:.]/g, "-")}-${scenario.name}`);
  const markdown = markdownReport(scenario, records, targets, header);
  const json = {
    scenario: scenario.name,
    title: scenario.title,
    date: header.date,
    environment: header.environment,
    params: scenario.params,
    targets,
    summary: summarise(records, scenario.columns, targets),
    runs: records,
  };
  const files = [`${stem}.json`, `${stem}.md`];
  writeFileSync(files[0], `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(files[1], `${markdown}\n${legend(scenario)}\n`);
  const svg = svgChart(scenario, records, targets);
  if (svg) {
    files.push(`${stem}.svg`);
    writeFileSync(files[2], svg);
  }
  return { markdown, files };
}
