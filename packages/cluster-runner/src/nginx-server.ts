import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findExecutable } from "./executables";
import { freePort } from "./free-port";
import { answers200, pollUntil } from "./http-probe";
import { ManagedProcess, spawnManaged, tail } from "./managed-process";
import { renderNginxConfig, Upstream } from "./nginx-config";

export interface LocalNginx {
  process: ManagedProcess;
  port: number;
}

export interface LocalNginxOptions {
  /** nginx prefix: config, pid file and temp dirs go here. */
  dir: string;
  logsDir: string;
  /** 0: a free port. */
  port: number;
  upstreams: Upstream[];
  stickiness: "hash" | "round-robin";
  timeoutMs: number;
}

const ATTEMPTS = 3;

/**
 * nginx as a plain child process (`daemon off`, everything under `dir`), so it runs the same as root
 * and as a normal user and dies with the runner's stop().
 */
export async function startLocalNginx(options: LocalNginxOptions): Promise<LocalNginx> {
  const command = findExecutable("nginx");
  await mkdir(join(options.dir, "temp"), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = options.port === 0 ? await freePort() : options.port;
    const conf = join(options.dir, "nginx.conf");
    await writeFile(
      conf,
      renderNginxConfig({
        listen: `127.0.0.1:${port}`,
        upstreams: options.upstreams,
        stickiness: options.stickiness,
        tempDir: join(options.dir, "temp"),
        pidFile: join(options.dir, "nginx.pid"),
        errorLog: "stderr",
        accessLog: join(options.logsDir, "nginx-access.log"),
        // One worker: the runner serves tests and a bench on one machine, not production traffic.
        workerProcesses: 1,
        // No failure memory: a node restarted by a test takes traffic at once instead of being left
        // out for fail_timeout. A dead node is still skipped per request (proxy_next_upstream), which
        // costs one refused connect on loopback.
        maxFails: 0,
      }),
    );
    const nginx = await spawnManaged({
      name: "nginx",
      command,
      // -e: the compiled-in error log may be unwritable before the config is read (non-root).
      args: ["-p", `${options.dir}/`, "-c", conf, "-e", "stderr", "-g", "daemon off;"],
      env: { PATH: process.env.PATH ?? "" },
      cwd: options.dir,
      logFile: join(options.logsDir, "nginx.log"),
    });
    try {
      // nginx prints nothing when ready: the first proxied answer is the signal.
      await pollUntil("nginx", () => answers200(`http://127.0.0.1:${port}/health/live`), {
        timeoutMs: options.timeoutMs,
        abort: () => (nginx.running ? null : new Error("nginx exited during start-up")),
      });
      return { process: nginx, port };
    } catch (error) {
      await nginx.stop("SIGTERM", 2000);
      const log = await tail(nginx.logFile);
      if (attempt < ATTEMPTS && options.port === 0 && log.includes("in use")) continue;
      throw new Error(`${(error as Error).message}\n${log}`);
    }
  }
}
