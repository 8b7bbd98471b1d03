import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { isKeyPrefix } from "../cluster/key-space";
import { Config, SETTINGS, Setting } from "./schema";

export type Environment = Record<string, string | undefined>;

export interface LoadedConfig {
  config: Config;
  /** One line per problem: which variable, what is wrong. Empty when the config is usable. */
  problems: string[];
  /** Secrets made up at start because development ran without them; printed once. */
  generated: { jwtSecret?: string; apiKey?: string };
}

const MIN_JWT_SECRET_BYTES = 32;
const MIN_API_KEY_LENGTH = 16;

/** The process environment over the `.env` file of `cwd`: real variables win. */
export function readEnvironment(cwd: string, processEnv: Environment): Environment {
  let fromFile: Environment = {};
  try {
    fromFile = parseDotenv(readFileSync(join(cwd, ".env")));
  } catch {
    // no .env file: the process environment alone
  }
  return { ...fromFile, ...processEnv };
}

export function loadConfig(env: Environment): LoadedConfig {
  const problems: string[] = [];
  const config = {} as Record<keyof Config, unknown>;
  for (const setting of Object.values(SETTINGS) as Setting<keyof Config>[]) {
    const raw = env[setting.env]?.trim();
    if (raw === undefined || raw === "") {
      config[setting.key] = typeof setting.fallback === "function" ? setting.fallback(env) : setting.fallback;
      continue;
    }
    const value = setting.parse(raw);
    if (isProblem(value)) problems.push(`${setting.env} ${value.problem}`);
    else config[setting.key] = value;
  }
  const typed = config as unknown as Config;
  const generated = problems.length === 0 ? checkSecrets(typed, problems) : {};
  checkCombinations(typed, problems);
  return { config: typed, problems, generated };
}

function isProblem(value: unknown): value is { problem: string } {
  return typeof value === "object" && value !== null && "problem" in value && !Array.isArray(value);
}

function checkSecrets(config: Config, problems: string[]): LoadedConfig["generated"] {
  const generated: LoadedConfig["generated"] = {};
  const hasApiKey = Boolean(config.laravelApiKey) || config.apiKeyHashes.length > 0;
  if (config.nodeEnv === "production") {
    if (Buffer.byteLength(config.jwtSecret) < MIN_JWT_SECRET_BYTES) {
      problems.push(`JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes in production`);
    }
    if (!hasApiKey) problems.push("LARAVEL_API_KEY or WEBSOCKET_API_KEY_HASH is required in production");
    if (config.jwtSecretPrevious !== undefined && Buffer.byteLength(config.jwtSecretPrevious) < MIN_JWT_SECRET_BYTES) {
      problems.push(`JWT_SECRET_PREVIOUS must be at least ${MIN_JWT_SECRET_BYTES} bytes in production`);
    }
    if (config.laravelApiKey && config.laravelApiKey.length < MIN_API_KEY_LENGTH) {
      problems.push(`LARAVEL_API_KEY must be at least ${MIN_API_KEY_LENGTH} characters in production`);
    }
    if (config.corsOrigins.length === 0)
      problems.push("CORS_ORIGINS is required in production (comma-separated origins)");
    return generated;
  }
  if (!config.jwtSecret) {
    config.jwtSecret = generated.jwtSecret = randomBytes(32).toString("hex");
  }
  if (!hasApiKey) {
    config.laravelApiKey = generated.apiKey = `rt_dev_${randomBytes(16).toString("hex")}`;
  }
  return generated;
}

function checkCombinations(config: Config, problems: string[]): void {
  if (config.redisUrl && config.redisClusterNodes.length > 0) {
    problems.push("REDIS_URL and REDIS_CLUSTER_NODES are both set: choose one");
  }
  if (!isKeyPrefix(config.redisKeyPrefix)) {
    problems.push("REDIS_KEY_PREFIX must not contain { or }: Redis Cluster would hash every key by it");
  }
  if (config.channelAuth === "laravel" && !config.laravelApiUrl) {
    problems.push("LARAVEL_API_URL is required when CHANNEL_AUTH=laravel");
  }
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    problems.push(
      "HTTP_HEADERS_TIMEOUT_MS must not be above HTTP_REQUEST_TIMEOUT_MS (headers are part of the request)",
    );
  }
  if (config.laravelApiUrl && !config.laravelApiKey) {
    problems.push("LARAVEL_API_KEY is required with LARAVEL_API_URL (it authenticates the callbacks)");
  }
}

/** Effective values with secrets masked, for `--print-config`. */
export function describeConfig(config: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const setting of Object.values(SETTINGS) as Setting<keyof Config>[]) {
    const value = config[setting.key];
    shown[setting.env] = setting.secret && value ? mask(String(value)) : value;
  }
  return shown;
}

function mask(secret: string): string {
  return secret.length <= 8 ? "****" : `${secret.slice(0, 2)}****${secret.slice(-2)}`;
}
