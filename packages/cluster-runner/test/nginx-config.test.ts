import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderComposeNginxConfig } from "../src/compose-nginx";
import { findExecutable } from "../src/executables";
import { NginxConfigOptions, renderNginxConfig } from "../src/nginx-config";
import { NGINX_COMPOSE_CONF } from "../src/paths";

const local = (dir: string, overrides: Partial<NginxConfigOptions> = {}): string =>
  renderNginxConfig({
    listen: "127.0.0.1:18080",
    upstreams: [
      { host: "127.0.0.1", port: 13001 },
      { host: "127.0.0.1", port: 13002 },
    ],
    tempDir: join(dir, "temp"),
    pidFile: join(dir, "nginx.pid"),
    errorLog: "stderr",
    accessLog: join(dir, "access.log"),
    workerProcesses: 1,
    ...overrides,
  });

/** The directives of a block, comments dropped, whitespace collapsed. */
const directives = (conf: string): string[] =>
  conf
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim().replace(/\s+/g, " "))
    .filter(Boolean);

describe("renderNginxConfig", () => {
  const conf = directives(local("/run/x"));

  it("lists every node once, with failure detection so a dead node is skipped", () => {
    expect(conf).toContain("server 127.0.0.1:13001 max_fails=1 fail_timeout=10s;");
    expect(conf).toContain("server 127.0.0.1:13002 max_fails=1 fail_timeout=10s;");
    expect(conf).toContain("proxy_next_upstream error timeout;");
  });

  it("sends a Socket.IO request a draining node refused (503), POST included, to another node; no API request", () => {
    const socketIo = conf.slice(conf.indexOf("location /socket.io/ {"));
    expect(socketIo.slice(0, socketIo.indexOf("}"))).toContain(
      "proxy_next_upstream error timeout http_503 non_idempotent;",
    );
    expect(conf.filter((d) => d.startsWith("proxy_next_upstream "))).toHaveLength(2);
  });

  it("is sticky by client address by default, and round-robin only when asked", () => {
    expect(conf).toContain("hash $remote_addr consistent;");
    expect(directives(local("/run/x", { stickiness: "round-robin" })).some((d) => d.startsWith("hash "))).toBe(false);
  });

  it("upgrades WebSockets and keeps idle Socket.IO connections well past the 25 s ping", () => {
    expect(conf).toEqual(
      expect.arrayContaining([
        "map $http_upgrade $connection_upgrade {",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_read_timeout 75s;",
        "proxy_send_timeout 75s;",
      ]),
    );
    const socketIo = conf.slice(conf.indexOf("location /socket.io/ {"));
    expect(socketIo.slice(0, socketIo.indexOf("}"))).toContain("proxy_buffering off;");
  });

  it("passes the client address and the request id", () => {
    expect(conf).toEqual(
      expect.arrayContaining([
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Request-Id $realtime_request_id;",
      ]),
    );
  });

  it("answers /metrics itself and leaves 413 for bodies over MAX_PAYLOAD_BYTES to the node", () => {
    expect(conf).toContain("location ~* ^/metrics {");
    expect(conf[conf.indexOf("location ~* ^/metrics {") + 1]).toMatch(/^return 404 /);
    expect(conf).toContain("client_max_body_size 1m;");
  });

  it("leaves `daemon` to the command line, where both runners set it", () => {
    expect(conf.some((d) => d.startsWith("daemon "))).toBe(false);
    expect(conf.join("\n")).not.toMatch(/\{\{/);
  });

  it("refuses values that would end a directive", () => {
    expect(() => local("/run/x", { pidFile: "/tmp/x; user root" })).toThrow(/pidFile/);
    expect(() => local("/run/x", { upstreams: [] })).toThrow(/upstream/);
  });

  it("is accepted by `nginx -t`", () => {
    const dir = mkdtempSync(join(tmpdir(), "nginx-config-test-"));
    try {
      mkdirSync(join(dir, "temp"));
      writeFileSync(join(dir, "nginx.conf"), local(dir));
      const check = spawnSync(
        findExecutable("nginx"),
        ["-t", "-q", "-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-e", "stderr"],
        { encoding: "utf8" },
      );
      expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("nginx/nginx.compose.conf", () => {
  it("is the template rendered for docker compose (run packages/cluster-runner/dist/write-compose-nginx.js)", () => {
    expect(readFileSync(NGINX_COMPOSE_CONF, "utf8")).toBe(renderComposeNginxConfig());
  });
});
