import { parseArgs } from "node:util";
import type { ClusterOptions } from "./cluster";

export const USAGE = `Usage: npm run cluster -- [options]

Starts Redis, N realtime nodes and nginx on 127.0.0.1, prints one line
  READY {"url":...,"nodes":[...],"redis":...,"nginx_pid":...,"jwt_secret":...,"api_key":...,"logs":...}
and stops everything on Ctrl-C / SIGTERM.

  --nodes N                 realtime nodes (default 3)
  --port P                  nginx port on 127.0.0.1, 0 = a free one (default 8080)
  --no-redis                no Redis: embedded nodes, each with its own state (tests of the runner)
  --redis-url URL           use this Redis instead of starting one (default: REDIS_URL, else own)
  --redis-cluster           start an own Redis Cluster (3 masters + 3 replicas) instead of one Redis
  --stickiness hash|round-robin   nginx balancing (default hash; round-robin breaks long-polling)
  --key-prefix P            REDIS_KEY_PREFIX (default rt:<random>:)
  --log-level info|debug    node log level (default info)
  -h, --help

Node settings come from the environment (PRESENCE_GRACE_MS=1000 npm run cluster ...).
JWT_SECRET and LARAVEL_API_KEY are taken from it too, or generated once for all nodes.`;

export type CliCommand = { help: true } | { help: false; options: ClusterOptions };

/** argv (without node and script) → cluster options; throws with a readable message on bad input. */
export function parseCliArgs(argv: string[], env: Record<string, string | undefined>): CliCommand {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      nodes: { type: "string", default: "3" },
      port: { type: "string", default: "8080" },
      "no-redis": { type: "boolean", default: false },
      "redis-url": { type: "string" },
      "redis-cluster": { type: "boolean", default: false },
      stickiness: { type: "string", default: "hash" },
      "key-prefix": { type: "string" },
      "log-level": { type: "string", default: "info" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true };
  const redisChoices = [values["no-redis"], values["redis-url"] !== undefined, values["redis-cluster"]];
  if (redisChoices.filter(Boolean).length > 1) {
    throw new Error("--no-redis, --redis-url and --redis-cluster exclude each other");
  }
  return {
    help: false,
    options: {
      nodes: wholeNumber("--nodes", values.nodes),
      port: wholeNumber("--port", values.port),
      redis: !values["no-redis"],
      redisUrl: values["redis-url"],
      redisCluster: values["redis-cluster"],
      stickiness: oneOf("--stickiness", values.stickiness, ["hash", "round-robin"] as const),
      keyPrefix: values["key-prefix"],
      logLevel: oneOf("--log-level", values["log-level"], ["info", "debug"] as const),
      baseEnv: env,
      // The operator reads the logs after Ctrl-C.
      keepLogs: true,
    },
  };
}

function wholeNumber(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`${flag} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${flag} must be one of ${allowed.join(", ")}`);
  return raw as T;
}
