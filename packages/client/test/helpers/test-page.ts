import { readFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { TestBrowser } from "./browser";
import { until } from "./node";

const BUNDLE = join(__dirname, "../../dist/realtime-client.global.js");

/**
 * A page as a forum would write it with the <script> tag: it connects with the query's `url` and
 * `token` (and `transports`), subscribes to `thread`, watches `watch`, and reports what the client hands over to the
 * test through an exposed function (not through the page's own storage, which a reload may cut short).
 */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<script src="/realtime-client.global.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  const record = (entry) => window.report({ load: performance.timeOrigin, t: Date.now(), ...entry });
  const transports = params.get("transports")?.split(",");
  const client = MechaMapRealtime.connect({ url: params.get("url"), token: params.get("token"), transports });
  const onEvent = (event) => (data, meta) =>
    record({ kind: "event", event, i: data.i, id: meta.id, channel: meta.channel, offset: meta.offset });
  client.on("notification", onEvent("notification"));
  client.on("gap", ({ channel }) => record({ kind: "gap", channel }));
  client.on("state", (state) => record({ kind: "state", state }));
  if (params.has("thread")) {
    client.subscribe({ thread_id: params.get("thread") }).then(
      (thread) => (thread.on("new_reply", onEvent("new_reply")), record({ kind: "subscribed" })),
      (error) => record({ kind: "refused", code: error.code }),
    );
  }
  if (params.has("watch")) {
    const watched = [params.get("watch")];
    client
      .watchPresence(watched, (update) => record({ kind: "presence", ...update }))
      .then(({ online }) => record({ kind: "watching", online }));
  }
</script>`;

export interface LogEntry {
  load: number;
  t: number;
  kind: "event" | "gap" | "state" | "subscribed" | "refused" | "presence" | "watching";
  event?: string;
  i?: number;
  id?: string;
  channel?: string;
  offset?: string;
  state?: string;
  code?: string;
  user_id?: string;
  online?: boolean | string[];
}

const servers = new Set<Server>();
afterEach(async () => {
  // Chromium keeps connections alive: close them, or close() waits for their idle timeout.
  await Promise.all(
    [...servers].map((server) => new Promise((resolve) => (server.close(resolve), server.closeAllConnections()))),
  );
  servers.clear();
});

/** Serves the test page and the built bundle on a free loopback port (another origin than the node's). */
export async function servePage(): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === "/realtime-client.global.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" }).end(readFileSync(BUNDLE));
    } else {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(PAGE);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.add(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

export function pageUrl(base: string, query: Record<string, string | number>): string {
  return `${base}?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`;
}

export interface TestPage {
  page: Page;
  /** What the page reported, in order; `load` is 1 for the first document, 2 after a reload, ... */
  log: LogEntry[];
}

/** Opens the test page in a new tab, collecting its reports. */
export async function openTestPage(browser: TestBrowser, base: string, query: Record<string, string | number>) {
  const page = await browser.newPage();
  const log: LogEntry[] = [];
  const loads: number[] = [];
  await page.exposeFunction("report", (entry: LogEntry) => {
    if (!loads.includes(entry.load)) loads.push(entry.load);
    log.push({ ...entry, load: loads.indexOf(entry.load) + 1 });
  });
  await page.goto(pageUrl(base, query));
  return { page, log };
}

/** Waits until the log has `count` entries of `kind` (with the fields of `match`). */
export async function waitForLog(tab: TestPage, kind: LogEntry["kind"], count = 1, match: Partial<LogEntry> = {}) {
  const matching = () =>
    tab.log.filter(
      (entry) => entry.kind === kind && Object.entries(match).every(([k, v]) => entry[k as keyof LogEntry] === v),
    );
  await until(() => matching().length >= count, 20000, `${count} ${kind} ${JSON.stringify(match)}`);
}

export const events = (log: LogEntry[]): LogEntry[] => log.filter((entry) => entry.kind === "event");
