import { startNginxProxy } from "../proc/nginx-proxy";
import type { Ingress, RunningTarget } from "../targets/target";
import { FANOUT_COLUMNS, FanoutParams, measureFanout } from "./fanout";
import { fanoutScenario, measuredWindow } from "./fanout-scenario";
import type { Column, RunContext, Scenario } from "./scenario";
import { S1_DEFAULTS } from "./s1-fanout";

export const S8_DEFAULTS: FanoutParams = {
  ...S1_DEFAULTS,
  // The publisher goes through nginx too, so HTTP for every target (echo's usual Redis way in has no proxy).
  ingress: "http",
};

export const S8_COLUMNS: Column[] = [
  ...FANOUT_COLUMNS,
  {
    key: "helperCpuPct",
    label: "nginx CPU %",
    doc: "nginx (master + worker) plus the target's own helpers (bare, echo: their Redis), % of one core",
    digits: 0,
  },
];

/**
 * S8 (issue 5): S1 through nginx — an nginx (the repository's template, see proc/nginx-proxy.ts) in
 * front of the target's one node; subscribers connect and the publisher posts through it. nginx runs on
 * the generator's core; its CPU is reported as "nginx CPU %", not as the server's.
 */
export function s8Scenario(params: FanoutParams): Scenario {
  return fanoutScenario({
    name: "s8",
    title: `S8 through nginx: 1 room × ${params.subscribers} subscribers, ${params.rate} events/s (${params.subscribers * params.rate} deliveries/s), clients and ${params.ingress === "http" ? "HTTP publisher" : "publisher"} via nginx, ${measuredWindow(params)}`,
    params,
    columns: S8_COLUMNS,
    slackS: 70,
    run: (target, context) => runThroughNginx(target, params, context),
  });
}

async function runThroughNginx(target: RunningTarget, params: FanoutParams, context: RunContext) {
  const port = Number(new URL(target.url).port);
  const nginx = await startNginxProxy(port, context.pinning);
  try {
    const proxied: RunningTarget = {
      ...target,
      url: viaPort(target.url, nginx.port),
      ingress: viaNginx(target.ingress, nginx.port),
      httpIngress: viaNginx(target.httpIngress, nginx.port),
      helperPids: [...target.helperPids, ...nginx.pids],
    };
    return await measureFanout(proxied, params, context);
  } finally {
    await nginx.stop();
  }
}

function viaPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

/** HTTP ingress through nginx; a Redis ingress (echo, `--ingress native`) stays as it is. */
function viaNginx(ingress: Ingress, port: number): Ingress {
  return ingress.kind === "http" ? { ...ingress, url: viaPort(ingress.url, port) } : ingress;
}
