import { describeConfig, loadConfig } from "../src/config/load-config";

describe("configuration", () => {
  it("fills every default and generates secrets in development", () => {
    const { config, problems, generated } = loadConfig({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      redisKeyPrefix: "rt:",
      presenceGraceMs: 5000,
      nodeTtlMs: 15000,
      historySize: 100,
      historyTtlS: 600,
      idempotencyTtlS: 600,
      maxPayloadBytes: 102400,
      maxSubscriptions: 100,
      apiRateLimit: 2000,
      shutdownTimeoutMs: 10000,
      corsOrigins: ["*"],
      channelAuth: "none",
      allowGuests: false,
      allowQueryToken: false,
    });
    expect(generated.jwtSecret).toHaveLength(64);
    expect(config.jwtSecret).toBe(generated.jwtSecret);
    expect(config.laravelApiKey).toBe(generated.apiKey);
  });

  it("refuses REDIS_URL and REDIS_CLUSTER_NODES together, and a brace in REDIS_KEY_PREFIX", () => {
    const { problems } = loadConfig({
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_CLUSTER_NODES: "127.0.0.1:7000",
      REDIS_KEY_PREFIX: "{rt}:",
    });
    expect(problems).toEqual([
      "REDIS_URL and REDIS_CLUSTER_NODES are both set: choose one",
      "REDIS_KEY_PREFIX must not contain { or }: Redis Cluster would hash every key by it",
    ]);
  });

  it("lists one clear line per bad variable", () => {
    const { problems } = loadConfig({
      PORT: "70000",
      ALLOW_GUESTS: "maybe",
      CHANNEL_AUTH: "gates",
      REDIS_URL: "http://x",
    });
    expect(problems).toEqual([
      'PORT must be a whole number from 0 to 65535, got "70000"',
      "REDIS_URL must be a redis:// or rediss:// URL",
      'CHANNEL_AUTH must be one of none, laravel, got "gates"',
      'ALLOW_GUESTS must be true or false, got "maybe"',
    ]);
  });

  it("requires real secrets and origins in production", () => {
    const { problems, generated } = loadConfig({ NODE_ENV: "production", JWT_SECRET: "short", LARAVEL_API_KEY: "k" });
    expect(generated).toEqual({});
    expect(problems).toEqual([
      "JWT_SECRET must be at least 32 bytes in production",
      "LARAVEL_API_KEY must be at least 16 characters in production",
      "CORS_ORIGINS is required in production (comma-separated origins)",
    ]);
    const ok = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: "x".repeat(32),
      WEBSOCKET_API_KEY_HASH: "a".repeat(64),
      CORS_ORIGINS: "https://forum.example",
    });
    expect(ok.problems).toEqual([]);
  });

  it("has a default for every security limit, and checks them", () => {
    expect(loadConfig({}).config).toMatchObject({
      maxConnections: 0,
      maxConnectionsPerUser: 50,
      handshakeRateLimit: 50,
      trustProxyHops: 1,
      maxJsonDepth: 32,
      maxHeaderBytes: 16384,
      maxHeaders: 100,
      httpHeadersTimeoutMs: 10000,
      httpRequestTimeoutMs: 30000,
      httpKeepAliveTimeoutMs: 65000,
      jwtSecretPrevious: undefined,
    });
    expect(
      loadConfig({
        CORS_ORIGINS: "https://forum.example/, https://*.Forum.Example,http://localhost:8080",
        HTTP_HEADERS_TIMEOUT_MS: "5000",
        HTTP_REQUEST_TIMEOUT_MS: "5000",
      }).config.corsOrigins,
    ).toEqual(["https://forum.example", "https://*.forum.example", "http://localhost:8080"]);
    expect(
      loadConfig({
        CORS_ORIGINS: "https://forum.example/path",
        HTTP_HEADERS_TIMEOUT_MS: "20000",
        HTTP_REQUEST_TIMEOUT_MS: "10000",
        MAX_JSON_DEPTH: "1",
      }).problems,
    ).toEqual([
      'CORS_ORIGINS must be * or origins like https://forum.example or https://*.forum.example, got "https://forum.example/path"',
      'MAX_JSON_DEPTH must be a whole number from 2 to 1000, got "1"',
      "HTTP_HEADERS_TIMEOUT_MS must not be above HTTP_REQUEST_TIMEOUT_MS (headers are part of the request)",
    ]);
  });

  it("requires a previous JWT secret as long as the current one in production", () => {
    const { problems } = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: "x".repeat(32),
      JWT_SECRET_PREVIOUS: "short",
      WEBSOCKET_API_KEY_HASH: "a".repeat(64),
      CORS_ORIGINS: "https://forum.example",
    });
    expect(problems).toEqual(["JWT_SECRET_PREVIOUS must be at least 32 bytes in production"]);
  });

  it("masks secrets when printing the effective config", () => {
    const { config } = loadConfig({ JWT_SECRET: "super-secret-value-123", LARAVEL_API_KEY: "api-key-value-456789" });
    const shown = JSON.stringify(describeConfig(config));
    expect(shown).not.toContain("super-secret-value-123");
    expect(shown).not.toContain("api-key-value-456789");
    expect(describeConfig(config)).toMatchObject({ JWT_SECRET: "su****23", PORT: 3000 });
  });
});
