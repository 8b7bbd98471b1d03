import type { RunRecord, Scenario } from "../scenarios/scenario";
import type { TargetName } from "../targets/target";
import { Spread, summarise } from "./summary";

const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"];
const PANEL = { width: 520, height: 300, top: 40, left: 60, bottom: 50 };

interface Bar {
  group: string;
  series: string;
  value: Spread;
}

/**
 * Two panels, hand-drawn so the bench needs no charting dependency: latency percentiles per target
 * (log scale, median bars with min–max whiskers) and the scenario's throughput figure per target.
 */
export function svgChart(scenario: Scenario, records: RunRecord[], targets: TargetName[]): string | undefined {
  if (!scenario.chart) return undefined;
  const summary = summarise(records, scenario.columns, targets);
  const label = (key: string): string => scenario.columns.find((c) => c.key === key)?.label ?? key;
  const latency: Bar[] = targets.flatMap((target) =>
    scenario.chart!.latency.flatMap((key) => {
      const value = summary[target]?.[key];
      return value ? [{ group: target, series: label(key), value }] : [];
    }),
  );
  const throughput: Bar[] = targets.flatMap((target) => {
    const value = summary[target]?.[scenario.chart!.throughput];
    return value ? [{ group: target, series: scenario.chart!.throughputLabel, value }] : [];
  });
  const width = PANEL.width * 2 + 40;
  const body = [
    panel(latency, 0, "latency (ms, log scale)", true),
    panel(throughput, PANEL.width + 40, scenario.chart.throughputLabel, false),
  ].join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height + 30}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="16" font-size="13" font-weight="bold">${escape(scenario.title)}</text>`,
    body,
    `</svg>`,
  ].join("\n");
}

function panel(bars: Bar[], x0: number, title: string, log: boolean): string {
  const groups = [...new Set(bars.map((b) => b.group))];
  const series = [...new Set(bars.map((b) => b.series))];
  const plotW = PANEL.width - PANEL.left - 10;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const values = bars.flatMap((b) => [b.value.min, b.value.max, b.value.median]).filter((v) => v > 0);
  if (values.length === 0) return "";
  const scale = log ? logScale(values, plotH) : linearScale(values, plotH);
  const out: string[] = [
    `<g transform="translate(${x0},0)">`,
    `<text x="${PANEL.left}" y="${PANEL.top - 12}" font-weight="bold">${escape(title)}</text>`,
  ];
  for (const tick of scale.ticks) {
    const y = PANEL.top + plotH - scale.y(tick);
    out.push(`<line x1="${PANEL.left}" x2="${PANEL.left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${PANEL.left - 4}" y="${y + 4}" text-anchor="end">${formatTick(tick)}</text>`);
  }
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(28, (groupW - 12) / Math.max(1, series.length));
  groups.forEach((group, gi) => {
    const gx = PANEL.left + gi * groupW + (groupW - barW * series.length) / 2;
    out.push(
      `<text x="${PANEL.left + gi * groupW + groupW / 2}" y="${PANEL.top + plotH + 16}" text-anchor="middle" font-weight="bold">${escape(group)}</text>`,
    );
    series.forEach((name, si) => {
      const bar = bars.find((b) => b.group === group && b.series === name);
      if (!bar) return;
      const x = gx + si * barW;
      const h = scale.y(bar.value.median);
      const top = PANEL.top + plotH;
      out.push(
        `<rect x="${x}" y="${top - h}" width="${barW - 2}" height="${Math.max(0, h)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${group} ${name}: ${bar.value.median}`)}</title></rect>`,
      );
      const cx = x + (barW - 2) / 2;
      out.push(
        `<line x1="${cx}" x2="${cx}" y1="${top - scale.y(bar.value.min)}" y2="${top - scale.y(bar.value.max)}" stroke="black"/>`,
      );
    });
  });
  series.forEach((name, si) => {
    const lx = PANEL.left + si * 90;
    const ly = PANEL.height - 12;
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/><text x="${lx + 14}" y="${ly}">${escape(name)}</text>`,
    );
  });
  out.push("</g>");
  return out.join("\n");
}

interface Scale {
  y(value: number): number;
  ticks: number[];
}

function logScale(values: number[], height: number): Scale {
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return { y: (v) => (v <= 0 ? 0 : ((Math.log10(v) - lo) / (hi - lo)) * height), ticks };
}

function linearScale(values: number[], height: number): Scale {
  const max = Math.max(...values);
  const step = 10 ** Math.floor(Math.log10(max));
  const top = Math.ceil(max / step) * step;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  return { y: (v) => (v / top) * height, ticks };
}

function formatTick(value: number): string {
  if (value >= 1000) return `${value / 1000}k`;
  return String(Number(value.toPrecision(3)));
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
