import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, startCluster } from "../src";
import { httpRequest } from "../src/http-probe";
import { accepts, connectSocket, get, gone, tokenFor } from "./helpers";

// The Redis side of the runner: first with stand-in nodes (fixtures/fake-node.js) that show exactly
// what each node was given — the runner's own redis-server, a given REDIS_URL, clean-up when start-up
// fails half-way — then with real nodes sharing state through it.
const FAKE_NODE = join(__dirname, "fixtures", "fake-node.js");

describe("the runner's Redis", () => {
  let dir: string;
  const clusters: Cluster[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cluster-redis-test-"));
  });
  afterEach(async () => {
    await Promise.all(clusters.splice(0).map((cluster) => cluster.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (options: Parameters<typeof startCluster>[0]): Promise<Cluster> => {
    const cluster = await startCluster({ nodeScript: FAKE_NODE, nodes: 2, ...options });
    clusters.push(cluster);
    return cluster;
  };

  it("starts its own redis-server and hands every node its URL and one key prefix", async () => {
    const cluster = await start({});
    expect(cluster.redis).toEqual({
      url: expect.stringMatching(/^redis:\/\/127\.0\.0\.1:\d+$/),
      pid: expect.any(Number),
    });
    expect(await accepts(Number(new URL(cluster.redis!.url).port))).toBe(true);
    for (const node of cluster.nodes) {
      const health = JSON.parse((await get(`${node.url}/health`)).body);
      expect(health).toMatchObject({ node: node.id, redis_url: cluster.redis!.url, key_prefix: cluster.keyPrefix });
    }
    const redisPid = cluster.redis!.pid!;
    await cluster.stop();
    expect(gone(redisPid)).toBe(true);
  });

  it("uses a given Redis URL instead, with a key prefix of its own", async () => {
    const first = await start({});
    const second = await start({ redisUrl: first.redis!.url });
    expect(second.redis).toEqual({ url: first.redis!.url, pid: null });
    expect(second.keyPrefix).not.toBe(first.keyPrefix);
    const health = JSON.parse((await get(`${second.nodes[0].url}/health`)).body);
    expect(health.redis_url).toBe(first.redis!.url);
  });

  it("stops what it had started when a node fails at start, and says why", async () => {
    const pidFile = join(dir, "pids");
    const failing = startCluster({
      nodeScript: FAKE_NODE,
      nodes: 2,
      env: { FAKE_FAIL_NODE: "node-2", FAKE_PID_FILE: pidFile },
    });
    await expect(failing).rejects.toThrow(/node-2 exited \(code 1\)[\s\S]*fake failure of node-2/);

    const started = readFileSync(pidFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => line.split(" "));
    expect(started.map(([id]) => id).sort()).toEqual(["node-1", "node-2"]);
    for (const [, pid] of started) expect(gone(Number(pid))).toBe(true);
    const redisPort = Number(new URL(started[0][2]).port);
    expect(await accepts(redisPort)).toBe(false);
  });
});

describe("real nodes on the runner's Redis", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  afterAll(() => cluster?.stop());

  it("report Redis healthy and deliver a broadcast accepted by one node to a socket on the other", async () => {
    for (const node of cluster.nodes) {
      expect(JSON.parse((await get(`${node.url}/health`)).body)).toMatchObject({ status: "ok", redis: "ok" });
    }
    await expectDeliveredAcross(cluster, "across");
  });
});

describe("real nodes on the runner's own Redis Cluster (--redis-cluster)", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, redisCluster: true });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it("starts 3 masters + 3 replicas, gives the nodes REDIS_CLUSTER_NODES alone, and stops every redis-server", async () => {
    expect(cluster.redis).toBeNull();
    expect(cluster.redisCluster).toHaveLength(6);
    for (const node of cluster.nodes) {
      expect(JSON.parse((await get(`${node.url}/health`)).body)).toMatchObject({
        status: "ok",
        redis: "ok",
        durability: "replicated",
      });
    }
    await expectDeliveredAcross(cluster, "sharded");
    const pids = cluster.redisCluster!.map((node) => node.pid);
    await cluster.stop();
    for (const pid of pids) expect(gone(pid)).toBe(true);
  });
});

/** A broadcast accepted by node 2 reaches a socket on node 1. */
async function expectDeliveredAcross(cluster: Cluster, id: string): Promise<void> {
  const socket = await connectSocket(cluster.nodes[0].url, {
    transports: ["websocket"],
    auth: { token: tokenFor(cluster.jwtSecret, 42) },
  });
  try {
    const received = new Promise((resolve) => socket.once("notification", resolve));
    const sent = await httpRequest(`${cluster.nodes[1].url}/api/broadcast`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-WebSocket-API-Key": cluster.apiKey },
      body: JSON.stringify({ event: "notification", to: "user", user_id: 42, data: { id } }),
    });
    expect(sent.status).toBe(200);
    await expect(received).resolves.toEqual({ id });
  } finally {
    socket.close();
  }
}
