import { createRedisState } from "../../src/state/redis-state";
import { ManualTime } from "./manual-time";
import { connected, json, request, startNode, tokenFor, until, TestNode } from "./node";
import { uniquePrefix } from "./redis";

/**
 * `count` in-process nodes in cluster mode on the Redis that `redisEnv` names (REDIS_URL or
 * REDIS_CLUSTER_NODES), under a key prefix of their own. `time`: one ManualTime shared by the nodes,
 * for the tests that move time themselves.
 */
export async function startClusterNodes(
  redisEnv: Record<string, string>,
  count: number,
  env: Record<string, string> = {},
  time?: ManualTime,
): Promise<TestNode[]> {
  const prefix = uniquePrefix();
  const nodes: TestNode[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push(
      await startNode(
        { ...redisEnv, REDIS_KEY_PREFIX: prefix, NODE_ID: `n${i}`, ...env },
        (config) => createRedisState(config, { onError: () => undefined, clock: time, scheduler: time }),
        time,
      ),
    );
  }
  return nodes;
}

/** The redis-adapter's cluster-wide requests: node A lists B's viewer and kicks B's socket. */
export async function expectKickAndViewersAcrossNodes([a, b]: TestNode[]): Promise<void> {
  const onA = await connected(a.url, { auth: { token: tokenFor(8) } });
  const onB = await connected(b.url, { auth: { token: tokenFor(9) } });
  for (const socket of [onA, onB]) await request(socket, "subscribe", { thread_id: 3 });
  expect(await json(a.api("/api/threads/3/viewers"))).toEqual({ thread_id: "3", count: 2, user_ids: ["8", "9"] });
  const reasons: string[] = [];
  onB.on("disconnect", (reason) => reasons.push(reason));
  await a.api("/api/users/9/disconnect", { method: "POST" });
  await until(() => reasons.length === 1);
  expect(reasons).toEqual(["io server disconnect"]);
  expect(onA.connected).toBe(true);
}
