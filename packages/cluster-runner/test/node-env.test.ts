import { nodeEnvironment } from "../src/node-env";
import { resolveSettings } from "../src/settings";

const input = {
  id: "node-2",
  port: 0,
  keyPrefix: "rt:abcd:",
  jwtSecret: "s".repeat(64),
  apiKey: "rt_dev_key",
  logLevel: "info" as const,
};

describe("nodeEnvironment", () => {
  it("keeps the runner's variables but overrides what the cluster needs to agree on", () => {
    const env = nodeEnvironment({
      ...input,
      base: { PRESENCE_GRACE_MS: "1000", JWT_SECRET: "other", LOG_LEVEL: "warn", PORT: "3000" },
      redisUrl: "redis://127.0.0.1:6390",
    });
    expect(env).toMatchObject({
      PRESENCE_GRACE_MS: "1000",
      JWT_SECRET: input.jwtSecret,
      LARAVEL_API_KEY: "rt_dev_key",
      NODE_ID: "node-2",
      PORT: "0",
      HOST: "127.0.0.1",
      REDIS_URL: "redis://127.0.0.1:6390",
      REDIS_KEY_PREFIX: "rt:abcd:",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      NODE_ENV: "development",
    });
  });

  it("drops Redis variables of the environment in embedded mode", () => {
    const env = nodeEnvironment({
      ...input,
      base: { REDIS_URL: "redis://elsewhere:6379", REDIS_CLUSTER_NODES: "a:1,b:2" },
      redisUrl: null,
    });
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.REDIS_CLUSTER_NODES).toBeUndefined();
  });
});

describe("resolveSettings", () => {
  it("generates one secret, one API key and a unique key prefix when the environment has none", () => {
    const a = resolveSettings({ baseEnv: {} });
    const b = resolveSettings({ baseEnv: {} });
    expect(a.jwtSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(a.apiKey).toMatch(/^rt_dev_[0-9a-f]{32}$/);
    expect(a.keyPrefix).not.toBe(b.keyPrefix);
  });

  it("takes secrets and REDIS_URL from the environment, and REDIS_URL only in Redis mode", () => {
    const baseEnv = { JWT_SECRET: "j".repeat(40), LARAVEL_API_KEY: "k".repeat(20), REDIS_URL: "redis://127.0.0.1:1" };
    const settings = resolveSettings({ baseEnv });
    expect(settings).toMatchObject({ jwtSecret: baseEnv.JWT_SECRET, apiKey: baseEnv.LARAVEL_API_KEY });
    expect(settings.redis).toEqual({ kind: "url", url: "redis://127.0.0.1:1" });
    expect(resolveSettings({ baseEnv, redis: false }).redis).toEqual({ kind: "none" });
    expect(resolveSettings({ baseEnv: {} }).redis).toEqual({ kind: "own" });
  });

  it("refuses a node count or port out of range", () => {
    expect(() => resolveSettings({ nodes: 0 })).toThrow(/nodes/);
    expect(() => resolveSettings({ port: 70000 })).toThrow(/port/);
  });
});
