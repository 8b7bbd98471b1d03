import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
// The node's one config schema, read from source: compose may set only what the node knows.
import { SETTINGS } from "../../../apps/realtime/src/config/schema";
import { COMPOSE_NGINX_PORT, COMPOSE_UPSTREAMS } from "../src/compose-nginx";
import { REPO_ROOT } from "../src/paths";

// `docker compose` cannot run here; these checks catch what would break `docker compose up`.

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), "utf8");
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const realtimeNames = Object.keys(services).filter((name) => /^realtime-\d+$/.test(name));
const knownVariables = new Set(Object.values(SETTINGS).map((setting) => setting.env));

describe("docker-compose.yml", () => {
  it("has Redis 7, three realtime nodes, nginx and Prometheus", () => {
    expect(Object.keys(services).sort()).toEqual(
      ["nginx", "prometheus", "realtime-1", "realtime-2", "realtime-3", "redis"].sort(),
    );
    expect(services.redis.image).toMatch(/^redis:7/);
  });

  it("sets only variables the node's config schema knows", () => {
    for (const name of realtimeNames) {
      const unknown = Object.keys(services[name].environment ?? {}).filter((variable) => !knownVariables.has(variable));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it("runs every node from the same image on the shared Redis, each with its own NODE_ID", () => {
    const envs = realtimeNames.map((name) => services[name].environment ?? {});
    expect(new Set(realtimeNames.map((name) => JSON.stringify(services[name].build))).size).toBe(1);
    expect(envs.map((env) => env.REDIS_URL)).toEqual(envs.map(() => "redis://redis:6379"));
    expect(new Set(envs.map((env) => env.NODE_ID)).size).toBe(realtimeNames.length);
    for (const secret of ["JWT_SECRET", "LARAVEL_API_KEY"]) {
      expect(new Set(envs.map((env) => env[secret])).size).toBe(1);
    }
  });

  it("matches the nginx upstreams and the Prometheus targets to the nodes' names and ports", () => {
    const nodes = realtimeNames.map((name) => `${name}:${services[name].environment?.PORT}`);
    expect(COMPOSE_UPSTREAMS.map(({ host, port }) => `${host}:${port}`)).toEqual(nodes);

    const nginxConf = read("nginx/nginx.compose.conf");
    const servers = [...nginxConf.matchAll(/^\s*server (\S+:\d+) /gm)].map((match) => match[1]);
    expect(servers).toEqual(nodes);

    const prometheus = parse(read("prometheus.yml")) as {
      scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    expect(targets.sort()).toEqual([...nodes].sort());
    expect(prometheus.scrape_configs.every((job) => (job.metrics_path ?? "/metrics") === "/metrics")).toBe(true);
  });

  it("publishes nginx's listening port, on loopback only", () => {
    expect(read("nginx/nginx.compose.conf")).toMatch(new RegExp(`^\\s*listen ${COMPOSE_NGINX_PORT};`, "m"));
    expect(services.nginx.ports).toEqual([`127.0.0.1:8080:${COMPOSE_NGINX_PORT}`]);
  });

  it("mounts configuration files that exist in the repository", () => {
    const mounts = Object.values(services).flatMap((service) => service.volumes ?? []);
    expect(mounts).toEqual(
      expect.arrayContaining([
        "./nginx/nginx.compose.conf:/etc/nginx/nginx.conf:ro",
        "./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
      ]),
    );
    for (const mount of mounts)
      expect({ mount, exists: existsSync(join(REPO_ROOT, mount.split(":")[0])) }).toEqual({ mount, exists: true });
  });
});

describe("docker-compose.redis-cluster.yml (the same cluster on a Redis Cluster)", () => {
  const override = parse(read("docker-compose.redis-cluster.yml"), { merge: true }) as {
    services: Record<string, Service & { command?: string[]; networks?: Record<string, { ipv4_address: string }> }>;
  };
  const redisNodes = Object.keys(override.services).filter((name) => /^redis-cluster-\d+$/.test(name));
  const addresses = redisNodes.map((name) => `${override.services[name].networks!.default.ipv4_address}:6379`);

  it("runs six cluster-enabled Redis 7 nodes joined into 3 masters + 3 replicas", () => {
    expect(redisNodes).toHaveLength(6);
    for (const name of redisNodes) {
      expect(override.services[name].image).toMatch(/^redis:7/);
      expect(override.services[name].command).toEqual(expect.arrayContaining(["--cluster-enabled", "yes"]));
    }
    const create = override.services["redis-cluster-init"].command!.join(" ");
    expect(create).toContain("--cluster-replicas 1");
    for (const address of addresses) expect(create).toContain(address);
  });

  it("gives every realtime node REDIS_CLUSTER_NODES alone, with variables the config schema knows", () => {
    for (const name of realtimeNames) {
      const env = override.services[name].environment ?? {};
      expect(env).toEqual({ REDIS_URL: "", REDIS_CLUSTER_NODES: addresses.join(",") });
      expect(Object.keys(env).filter((variable) => !knownVariables.has(variable))).toEqual([]);
      expect(Object.keys(override.services[name].depends_on ?? {})).toEqual(["redis-cluster-init"]);
    }
  });
});

describe("apps/realtime/Dockerfile", () => {
  const dockerfile = read("apps/realtime/Dockerfile");
  const build = services["realtime-1"].build;

  it("is the one docker-compose.yml builds, from the repository root", () => {
    expect(build).toEqual({ context: ".", dockerfile: "apps/realtime/Dockerfile" });
  });

  it("builds in one stage and runs as a non-root user with a liveness check in another", () => {
    expect([...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((match) => match[1])).toEqual(["build", "runtime"]);
    const runtime = dockerfile.slice(dockerfile.indexOf("AS runtime"));
    expect(runtime).toMatch(/npm ci .*--omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK [\s\S]*\/health\/live/m);
    expect(runtime).toMatch(/^CMD \["node", "apps\/realtime\/dist\/main.js"\]$/m);
  });

  it("copies only paths that exist, and every workspace manifest npm ci checks the lock against", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1].split(" "));
    for (const source of sources)
      expect({ source, exists: existsSync(join(REPO_ROOT, source)) }).toEqual({ source, exists: true });
    const workspaces = ["packages", "apps"].flatMap((dir) =>
      readdirSync(join(REPO_ROOT, dir))
        .filter((name) => existsSync(join(REPO_ROOT, dir, name, "package.json")))
        .map((name) => `${dir}/${name}/package.json`),
    );
    expect(sources).toEqual(expect.arrayContaining(workspaces));
  });

  it("keeps node_modules, build output and .env files out of the build context", () => {
    const ignored = read(".dockerignore").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", "**/.env"]));
  });
});
