import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { renderNginxConfig } from "@mechamap/cluster-runner";
import { drain } from "./lines";
import { spawnTracked, stopChild, trackPids } from "./children";
import { freePort } from "./free-port";
import type { Pinning } from "./pinning";

export interface RunningNginx {
  port: number;
  /** Master and worker. */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * nginx in front of one upstream (S8), rendered from the repository's one template
 * (`renderNginxConfig` of packages/cluster-runner: WebSocket upgrade, `proxy_buffering off` on
 * /socket.io/, upstream keepalive), one worker, no access log, on the generator's core.
 * `daemon off`, everything in a temp dir, stopped with the run.
 */
export async function startNginxProxy(upstreamPort: number, pinning: Pinning): Promise<RunningNginx> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-nginx-"));
  try {
    const port = await freePort();
    const conf = path.join(dir, "nginx.conf");
    writeFileSync(
      conf,
      renderNginxConfig({
        listen: `127.0.0.1:${port}`,
        upstreams: [{ host: "127.0.0.1", port: upstreamPort }],
        tempDir: dir,
        pidFile: path.join(dir, "nginx.pid"),
        errorLog: "stderr",
        accessLog: "/dev/null",
        workerProcesses: 1,
        maxFails: 0,
      }),
    );
    const [command, args] = pinning.helper("nginx", ["-p", `${dir}/`, "-c", conf, "-e", "stderr", "-g", "daemon off;"]);
    const child = spawnTracked(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    drain(child.stdout);
    drain(child.stderr);
    const stop = async (): Promise<void> => {
      await stopChild(child, 3000);
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await waitForListen(port, 10_000, () => child.exitCode !== null);
      let workers = childrenOf(child.pid!);
      for (let i = 0; i < 40 && workers.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        workers = childrenOf(child.pid!);
      }
      const forget = trackPids(workers);
      return {
        port,
        pids: [child.pid!, ...workers],
        stop: async () => {
          await stop();
          forget();
        },
      };
    } catch (error) {
      await stop();
      throw error;
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitForListen(port: number, timeoutMs: number, died: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (died()) throw new Error("nginx exited during start-up");
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
}
