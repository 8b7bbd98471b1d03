import { parseCliArgs } from "../src/cli-args";

describe("parseCliArgs", () => {
  it("defaults to three nodes behind port 8080 on an own Redis, keeping the logs", () => {
    const command = parseCliArgs([], {});
    expect(command).toEqual({
      help: false,
      options: expect.objectContaining({ nodes: 3, port: 8080, redis: true, stickiness: "hash", keepLogs: true }),
    });
  });

  it("reads --nodes, --port 0, --no-redis and --redis-url", () => {
    expect(parseCliArgs(["--nodes", "2", "--port", "0", "--no-redis"], {})).toMatchObject({
      options: { nodes: 2, port: 0, redis: false },
    });
    expect(parseCliArgs(["--redis-url", "redis://127.0.0.1:7000"], {})).toMatchObject({
      options: { redis: true, redisUrl: "redis://127.0.0.1:7000" },
    });
  });

  it("reads --redis-cluster, which excludes the other Redis choices", () => {
    expect(parseCliArgs(["--redis-cluster"], {})).toMatchObject({ options: { redis: true, redisCluster: true } });
    expect(() => parseCliArgs(["--redis-cluster", "--no-redis"], {})).toThrow(/exclude/);
    expect(() => parseCliArgs(["--redis-cluster", "--redis-url", "redis://x:1"], {})).toThrow(/exclude/);
  });

  it("rejects bad values with the flag's name", () => {
    expect(() => parseCliArgs(["--nodes", "two"], {})).toThrow(/--nodes/);
    expect(() => parseCliArgs(["--stickiness", "random"], {})).toThrow(/--stickiness/);
    expect(() => parseCliArgs(["--no-redis", "--redis-url", "redis://x:1"], {})).toThrow(/exclude/);
    expect(() => parseCliArgs(["--what"], {})).toThrow();
  });
});
