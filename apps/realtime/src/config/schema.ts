import { hostname } from "node:os";

/**
 * The one configuration schema: every environment variable the node reads, its default and meaning.
 * `process.env` is read nowhere else (see load-config.ts).
 */
export interface Config {
  nodeEnv: "development" | "production" | "test";
  port: number;
  host: string;
  nodeId: string;
  redisUrl: string | undefined;
  redisClusterNodes: string[];
  redisKeyPrefix: string;
  subscriptionLingerMs: number;
  redisWaitTimeoutMs: number;
  jwtSecret: string;
  jwtSecretPrevious: string | undefined;
  jwtIssuer: string[];
  jwtAudience: string | undefined;
  laravelApiKey: string | undefined;
  apiKeyHashes: string[];
  laravelApiUrl: string | undefined;
  corsOrigins: string[];
  channelAuth: "none" | "laravel";
  allowGuests: boolean;
  allowQueryToken: boolean;
  echoCompat: boolean;
  echoRedisPrefix: string[];
  presenceGraceMs: number;
  nodeTtlMs: number;
  historySize: number;
  warmUpCalls: number;
  jitInterruptBudget: number;
  historyTtlS: number;
  idempotencyTtlS: number;
  maxPayloadBytes: number;
  maxSubscriptions: number;
  apiRateLimit: number;
  socketEventRateLimit: number;
  maxConnections: number;
  maxConnectionsPerUser: number;
  handshakeRateLimit: number;
  trustProxyHops: number;
  maxJsonDepth: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  shutdownTimeoutMs: number;
  logLevel: "error" | "warn" | "info" | "debug";
  logFormat: "json" | "pretty";
  metricsToken: string | undefined;
}

export type Parser<T> = (raw: string) => T | { problem: string };

export interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  doc: string;
  /** Default when the variable is unset or empty; a function sees the raw environment. */
  fallback: Config[K] | ((env: Record<string, string | undefined>) => Config[K]);
  parse: Parser<Config[K]>;
  secret?: boolean;
}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const value = Number(raw);
    return Number.isInteger(value) && value >= min && value <= max
      ? value
      : { problem: `must be a whole number from ${min} to ${max}, got "${raw}"` };
  };

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) =>
    (values as string[]).includes(raw) ? (raw as T) : { problem: `must be one of ${values.join(", ")}, got "${raw}"` };

const boolean: Parser<boolean> = (raw) => {
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  return { problem: `must be true or false, got "${raw}"` };
};

const text: Parser<string> = (raw) => raw;
const optionalText: Parser<string | undefined> = (raw) => raw;
const list: Parser<string[]> = (raw) =>
  raw
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

const url =
  (...protocols: string[]): Parser<string | undefined> =>
  (raw) => {
    try {
      const parsed = new URL(raw);
      if (protocols.includes(parsed.protocol)) return raw.replace(/\/+$/, "");
    } catch {
      // reported below
    }
    return { problem: `must be a ${protocols.map((p) => p.replace(":", "://")).join(" or ")} URL` };
  };

const sha256List: Parser<string[]> = (raw) => {
  const hashes = list(raw) as string[];
  const bad = hashes.find((hash) => !/^[0-9a-fA-F]{64}$/.test(hash));
  return bad
    ? { problem: "must be comma-separated sha256 hex digests (64 hex characters each)" }
    : hashes.map((h) => h.toLowerCase());
};

/**
 * `*`, or origins as browsers send them (`scheme://host[:port]`, no path); a host may start with
 * `*.` for any subdomain at any depth (not the bare domain). A trailing slash is dropped.
 */
const originList: Parser<string[]> = (raw) => {
  const origins = (list(raw) as string[]).map((origin) => origin.replace(/\/+$/, "").toLowerCase());
  const bad = origins.find((origin) => origin !== "*" && !/^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/.test(origin));
  return bad === undefined
    ? origins
    : { problem: `must be * or origins like https://forum.example or https://*.forum.example, got "${bad}"` };
};

const hostPorts: Parser<string[]> = (raw) => {
  const nodes = list(raw) as string[];
  return nodes.every((node) => /^[^:\s]+:\d{1,5}$/.test(node)) ? nodes : { problem: "must be host:port,host:port" };
};

export const SETTINGS: { [K in keyof Config]: Setting<K> } = {
  nodeEnv: {
    key: "nodeEnv",
    env: "NODE_ENV",
    doc: "development generates missing secrets; production requires them",
    fallback: "development",
    parse: oneOf("development", "production", "test"),
  },
  port: { key: "port", env: "PORT", doc: "HTTP API, Socket.IO and /metrics", fallback: 3000, parse: integer(0, 65535) },
  host: { key: "host", env: "HOST", doc: "address to listen on", fallback: "0.0.0.0", parse: text },
  nodeId: {
    key: "nodeId",
    env: "NODE_ID",
    doc: "this node's name in /health, logs and metrics",
    fallback: (env) => `${hostname()}:${env.PORT || 3000}`,
    parse: (raw) => (/^[A-Za-z0-9_.:-]{1,64}$/.test(raw) ? raw : { problem: "must be 1-64 of [A-Za-z0-9_.:-]" }),
  },
  redisUrl: {
    key: "redisUrl",
    env: "REDIS_URL",
    doc: "redis:// or rediss:// URL; unset means embedded mode",
    fallback: undefined,
    parse: url("redis:", "rediss:"),
    secret: true,
  },
  redisClusterNodes: {
    key: "redisClusterNodes",
    env: "REDIS_CLUSTER_NODES",
    doc: "host:port seed nodes of a Redis Cluster",
    fallback: [],
    parse: hostPorts,
  },
  redisKeyPrefix: {
    key: "redisKeyPrefix",
    env: "REDIS_KEY_PREFIX",
    doc: "prefix of every Redis key and channel",
    fallback: "rt:",
    parse: text,
  },
  subscriptionLingerMs: {
    key: "subscriptionLingerMs",
    env: "SUBSCRIPTION_LINGER_MS",
    doc: "how long a node stays subscribed to a channel after its last member there left (page reloads)",
    fallback: 5000,
    parse: integer(0, 600_000),
  },
  redisWaitTimeoutMs: {
    key: "redisWaitTimeoutMs",
    env: "REDIS_WAIT_TIMEOUT_MS",
    doc: "with replicas, a broadcast is answered once a replica holds it (WAIT), or 503 after this long; 0 turns the wait off",
    fallback: 1000,
    parse: integer(0, 60_000),
  },
  jwtSecret: {
    key: "jwtSecret",
    env: "JWT_SECRET",
    doc: "HS256 secret shared with Laravel",
    fallback: "",
    parse: text,
    secret: true,
  },
  jwtSecretPrevious: {
    key: "jwtSecretPrevious",
    env: "JWT_SECRET_PREVIOUS",
    doc: "the JWT secret before a rotation: still verifies tokens, never signs",
    fallback: undefined,
    parse: optionalText,
    secret: true,
  },
  jwtIssuer: {
    key: "jwtIssuer",
    env: "JWT_ISSUER",
    doc: "accepted iss values, comma-separated",
    fallback: [],
    parse: list,
  },
  jwtAudience: {
    key: "jwtAudience",
    env: "JWT_AUDIENCE",
    doc: "required aud",
    fallback: undefined,
    parse: optionalText,
  },
  laravelApiKey: {
    key: "laravelApiKey",
    env: "LARAVEL_API_KEY",
    doc: "raw API key: accepted on /api/*, sent on callbacks to Laravel",
    fallback: undefined,
    parse: optionalText,
    secret: true,
  },
  apiKeyHashes: {
    key: "apiKeyHashes",
    env: "WEBSOCKET_API_KEY_HASH",
    doc: "sha256 hex of accepted API keys, comma-separated (rotation)",
    fallback: [],
    parse: sha256List,
  },
  laravelApiUrl: {
    key: "laravelApiUrl",
    env: "LARAVEL_API_URL",
    doc: "Laravel base URL for presence webhooks and channel authorization",
    fallback: undefined,
    parse: url("http:", "https:"),
  },
  corsOrigins: {
    key: "corsOrigins",
    env: "CORS_ORIGINS",
    doc: "origins allowed to open sockets and call the API, comma-separated (https://*.forum.example for subdomains); * allows any",
    fallback: (env) => (env.NODE_ENV === "production" ? [] : ["*"]),
    parse: originList,
  },
  channelAuth: {
    key: "channelAuth",
    env: "CHANNEL_AUTH",
    doc: "none: channels other than user.* are public; laravel: ask Laravel",
    fallback: "none",
    parse: oneOf("none", "laravel"),
  },
  allowGuests: {
    key: "allowGuests",
    env: "ALLOW_GUESTS",
    doc: "sockets without a token may connect",
    fallback: false,
    parse: boolean,
  },
  echoCompat: {
    key: "echoCompat",
    env: "ECHO_COMPAT",
    doc: "speak Laravel Echo's socket.io dialect and take in Laravel's Redis broadcasts (section 12)",
    fallback: true,
    parse: boolean,
  },
  echoRedisPrefix: {
    key: "echoRedisPrefix",
    env: "ECHO_REDIS_PREFIX",
    doc: "Laravel's Redis prefixes to PSUBSCRIBE <prefix>* (comma-separated; * matches any app name)",
    fallback: ["laravel_database_", "laravel-database-"],
    parse: (raw) => {
      const prefixes = list(raw) as string[];
      return prefixes.every((prefix) => /^[A-Za-z0-9_.:*-]{0,100}$/.test(prefix))
        ? prefixes
        : { problem: "must be comma-separated prefixes of [A-Za-z0-9_.:*-], e.g. laravel_database_,*-database-" };
    },
  },
  allowQueryToken: {
    key: "allowQueryToken",
    env: "ALLOW_QUERY_TOKEN",
    doc: "accept ?token= (ends up in access logs)",
    fallback: false,
    parse: boolean,
  },
  presenceGraceMs: {
    key: "presenceGraceMs",
    env: "PRESENCE_GRACE_MS",
    doc: "zero-socket time before user_offline",
    fallback: 5000,
    parse: integer(0, 3_600_000),
  },
  nodeTtlMs: {
    key: "nodeTtlMs",
    env: "NODE_TTL_MS",
    doc: "heartbeat age after which a node counts as dead",
    fallback: 15000,
    parse: integer(1000, 3_600_000),
  },
  historySize: {
    key: "historySize",
    env: "HISTORY_SIZE",
    doc: "events kept per channel",
    fallback: 100,
    parse: integer(0, 100_000),
  },
  warmUpCalls: {
    key: "warmUpCalls",
    env: "WARM_UP_CALLS",
    doc: "broadcast calls a node makes to a private copy of its API before it listens, so that its first real ones run compiled code",
    fallback: 1000,
    parse: integer(0, 100_000),
  },
  jitInterruptBudget: {
    key: "jitInterruptBudget",
    env: "JIT_INTERRUPT_BUDGET",
    doc: "V8's --interrupt-budget: bytecode a function runs before it is considered for TurboFan; lower compiles the delivery path sooner after a start (0: V8's default)",
    fallback: 8192,
    parse: integer(0, 10_000_000),
  },
  historyTtlS: {
    key: "historyTtlS",
    env: "HISTORY_TTL_S",
    doc: "how long events are kept",
    fallback: 600,
    parse: integer(1, 604_800),
  },
  idempotencyTtlS: {
    key: "idempotencyTtlS",
    env: "IDEMPOTENCY_TTL_S",
    doc: "how long an Idempotency-Key is remembered",
    fallback: 600,
    parse: integer(1, 604_800),
  },
  maxPayloadBytes: {
    key: "maxPayloadBytes",
    env: "MAX_PAYLOAD_BYTES",
    doc: "HTTP body and socket message limit",
    fallback: 102_400,
    parse: integer(1024, 16 * 1024 * 1024),
  },
  maxSubscriptions: {
    key: "maxSubscriptions",
    env: "MAX_SUBSCRIPTIONS",
    doc: "channels one socket may join",
    fallback: 100,
    parse: integer(1, 10_000),
  },
  apiRateLimit: {
    key: "apiRateLimit",
    env: "API_RATE_LIMIT",
    doc: "API requests per second per key, cluster-wide (shared every 100 ms: may go over by what other nodes take meanwhile)",
    fallback: 2000,
    parse: integer(1, 10_000_000),
  },
  socketEventRateLimit: {
    key: "socketEventRateLimit",
    env: "SOCKET_EVENT_RATE_LIMIT",
    doc: "client events per second per socket (bursts of twice that)",
    fallback: 20,
    parse: integer(1, 100_000),
  },
  maxConnections: {
    key: "maxConnections",
    env: "MAX_CONNECTIONS",
    doc: "connections this node takes; past it handshakes get 503 (nginx tries another node); 0 = no cap",
    fallback: 0,
    parse: integer(0, 10_000_000),
  },
  maxConnectionsPerUser: {
    key: "maxConnectionsPerUser",
    env: "MAX_CONNECTIONS_PER_USER",
    doc: "sockets one user may hold across the cluster (connect_error too_many_connections); 0 = no cap",
    fallback: 50,
    parse: integer(0, 1_000_000),
  },
  handshakeRateLimit: {
    key: "handshakeRateLimit",
    env: "HANDSHAKE_RATE_LIMIT",
    doc: "new Socket.IO sessions per second per client IP, cluster-wide (429); loopback is not counted; 0 = no limit",
    fallback: 50,
    parse: integer(0, 1_000_000),
  },
  trustProxyHops: {
    key: "trustProxyHops",
    env: "TRUST_PROXY_HOPS",
    doc: "proxies (nginx) in front of the node: the client IP is that many X-Forwarded-For entries from the right; 0 = the TCP peer",
    fallback: 1,
    parse: integer(0, 10),
  },
  maxJsonDepth: {
    key: "maxJsonDepth",
    env: "MAX_JSON_DEPTH",
    doc: "deepest nesting of objects and arrays accepted in a JSON body",
    fallback: 32,
    parse: integer(2, 1000),
  },
  maxHeaderBytes: {
    key: "maxHeaderBytes",
    env: "MAX_HEADER_BYTES",
    doc: "request line and headers of one HTTP request; past it 431",
    fallback: 16_384,
    parse: integer(4096, 1_048_576),
  },
  maxHeaders: {
    key: "maxHeaders",
    env: "MAX_HEADERS",
    doc: "headers read per HTTP request; the rest are ignored",
    fallback: 100,
    parse: integer(20, 2000),
  },
  httpHeadersTimeoutMs: {
    key: "httpHeadersTimeoutMs",
    env: "HTTP_HEADERS_TIMEOUT_MS",
    doc: "time to send a request's headers (slow headers get 408 and the connection closed)",
    fallback: 10_000,
    parse: integer(500, 600_000),
  },
  httpRequestTimeoutMs: {
    key: "httpRequestTimeoutMs",
    env: "HTTP_REQUEST_TIMEOUT_MS",
    doc: "time to send a whole request, body included (not the answer: long-polls are not cut)",
    fallback: 30_000,
    parse: integer(500, 3_600_000),
  },
  httpKeepAliveTimeoutMs: {
    key: "httpKeepAliveTimeoutMs",
    env: "HTTP_KEEP_ALIVE_TIMEOUT_MS",
    doc: "idle keep-alive connection lifetime; above nginx's upstream keepalive_timeout (60 s)",
    fallback: 65_000,
    parse: integer(1000, 600_000),
  },
  shutdownTimeoutMs: {
    key: "shutdownTimeoutMs",
    env: "SHUTDOWN_TIMEOUT_MS",
    doc: "graceful drain limit on SIGTERM",
    fallback: 10000,
    parse: integer(100, 600_000),
  },
  logLevel: {
    key: "logLevel",
    env: "LOG_LEVEL",
    doc: "winston level",
    fallback: "info",
    parse: oneOf("error", "warn", "info", "debug"),
  },
  logFormat: {
    key: "logFormat",
    env: "LOG_FORMAT",
    doc: "json, or pretty for humans",
    fallback: "json",
    parse: oneOf("json", "pretty"),
  },
  metricsToken: {
    key: "metricsToken",
    env: "METRICS_TOKEN",
    doc: "when set, /metrics needs Authorization: Bearer <token>",
    fallback: undefined,
    parse: optionalText,
    secret: true,
  },
};
