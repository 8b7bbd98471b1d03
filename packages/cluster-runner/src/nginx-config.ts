import { readFileSync } from "node:fs";
import { NGINX_TEMPLATE } from "./paths";

export interface Upstream {
  host: string;
  port: number;
}

export interface NginxConfigOptions {
  /** `listen` argument: a port ("80") or host:port ("127.0.0.1:8080"). */
  listen: string;
  upstreams: Upstream[];
  /**
   * `hash` (default): `hash $remote_addr consistent`, needed by long-polling (every request of a
   * session must reach the node holding it). `round-robin` exists only as a negative control.
   */
  stickiness?: "hash" | "round-robin";
  /** Where the temp dirs go (client_temp, proxy_temp, ...). */
  tempDir: string;
  pidFile: string;
  /** `stderr` or a file. */
  errorLog: string;
  /** A file, or /dev/stdout in a container. */
  accessLog: string;
  /** Default `auto`. */
  workerProcesses?: number | "auto";
  /** A node counts as down after this many failed attempts (0: never)... Default 1. */
  maxFails?: number;
  /** ...and is left out for this long. Default `10s`. */
  failTimeout?: string;
}

/** Renders nginx/nginx.conf.template; pure apart from reading the template. */
export function renderNginxConfig(options: NginxConfigOptions): string {
  if (options.upstreams.length === 0) throw new Error("nginx needs at least one upstream node");
  const maxFails = options.maxFails ?? 1;
  const failTimeout = options.failTimeout ?? "10s";
  const values: Record<string, string> = {
    worker_processes: String(options.workerProcesses ?? "auto"),
    pid_file: plain("pidFile", options.pidFile),
    error_log: plain("errorLog", options.errorLog),
    temp_dir: plain("tempDir", options.tempDir),
    access_log: plain("accessLog", options.accessLog),
    listen: plain("listen", options.listen),
    balancing:
      (options.stickiness ?? "hash") === "hash"
        ? "        hash $remote_addr consistent;"
        : "        # round-robin: no stickiness (negative control only; long-polling breaks)",
    servers: options.upstreams
      .map(
        ({ host, port }) =>
          `        server ${plain("host", host)}:${port} max_fails=${maxFails} fail_timeout=${failTimeout};`,
      )
      .join("\n"),
  };
  return readFileSync(NGINX_TEMPLATE, "utf8").replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx template: unknown placeholder {{${name}}}`);
    return value;
  });
}

/** A value that would end or open a directive cannot be templated safely. */
function plain(name: string, value: string): string {
  if (/[;{}\s'"]/.test(value) || value === "")
    throw new Error(`nginx config: ${name} must be one word, got "${value}"`);
  return value;
}
