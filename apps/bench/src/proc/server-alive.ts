import { request } from "node:http";
import type { RunningTarget } from "../targets/target";
import { rssBytes } from "./proc-stats";

/**
 * T6's "no crash": every server process still exists (a zombie has no VmRSS: `running`) and the server answers
 * HTTP on its port within `timeoutMs` — any complete response counts (the peers have no health route
 * and answer 404 to `GET /`), except for ours, whose `/health/live` must answer 2xx (`answering`).
 */
export async function serverAlive(
  target: RunningTarget,
  timeoutMs = 3000,
): Promise<{ running: boolean; answering: boolean }> {
  const running = target.serverPids.every((pid) => rssBytes(pid) !== undefined);
  if (!running) return { running, answering: false };
  const port = new URL(target.url.replace(/^ws/, "http")).port;
  const path = target.name.startsWith("ours") ? "/health/live" : "/";
  const status = await new Promise<number>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", () => resolve(0));
    req.end();
  });
  return { running, answering: target.name.startsWith("ours") ? status >= 200 && status < 300 : status > 0 };
}
