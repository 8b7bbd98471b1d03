#!/usr/bin/env node
// What one SSUBSCRIBE / SUNSUBSCRIBE costs a node on a Redis Cluster, through the same client the
// node uses (ioredis Cluster, shardedSubscribers: true), with 0 to many channels already held:
// ioredis's subscriber bookkeeping is O(channels held) per call (docs/SCALING.md, PITFALLS.md), which
// the linger (SUBSCRIPTION_LINGER_MS) bounds. Starts its own 3 masters + 3 replicas on free loopback
// ports and stops them. Prints node CPU µs per call (process.cpuUsage: user + system of this process).
//
//   npm run build && node tools/subscription-cost.mjs [--held 0,1000,5000,20000] [--calls 1000]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Cluster } = require("ioredis");
const { startRedisCluster } = require("../packages/cluster-runner/dist/redis-cluster-servers.js");

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
};
const heldLevels = arg("held", "0,1000,5000,20000").split(",").map(Number);
const calls = Number(arg("calls", "1000"));
const BATCH = 100;

const dir = mkdtempSync(join(tmpdir(), "subcost-"));
const redis = await startRedisCluster({ dir, logsDir: dir, timeoutMs: 30_000 });
const nodes = redis.nodes.map((node) => {
  const [host, port] = node.split(":");
  return { host, port: Number(port) };
});
const subscriber = new Cluster(nodes, { shardedSubscribers: true, redisOptions: { lazyConnect: false } });
await new Promise((resolve) => subscriber.once("ready", resolve));

/** CPU µs per call of `op` over `names`, BATCH calls in flight at a time (as a join storm would). */
async function cpuPerCall(names, op) {
  const before = process.cpuUsage();
  for (let i = 0; i < names.length; i += BATCH) {
    await Promise.all(names.slice(i, i + BATCH).map((name) => subscriber[op](name)));
  }
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / names.length;
}

// JIT and connections warm first, so the first level is not charged for them.
const warm = Array.from({ length: calls }, (_, i) => `rt:{warm.${i}}`);
await cpuPerCall(warm, "ssubscribe");
await cpuPerCall(warm, "sunsubscribe");

const rows = [];
let held = 0;
for (const level of heldLevels) {
  const filler = Array.from({ length: level - held }, (_, i) => `rt:{held.${held + i}}`);
  for (let i = 0; i < filler.length; i += 500) {
    await Promise.all(filler.slice(i, i + 500).map((name) => subscriber.ssubscribe(name)));
  }
  held = level;
  const names = Array.from({ length: calls }, (_, i) => `rt:{probe.${level}.${i}}`);
  const subscribeUs = await cpuPerCall(names, "ssubscribe");
  const unsubscribeUs = await cpuPerCall(names, "sunsubscribe");
  rows.push({ held: level, subscribeUs, unsubscribeUs });
}

console.log(`| channels already held | CPU µs per SSUBSCRIBE | CPU µs per SUNSUBSCRIBE |`);
console.log(`|---:|---:|---:|`);
for (const row of rows)
  console.log(`| ${row.held} | ${row.subscribeUs.toFixed(1)} | ${row.unsubscribeUs.toFixed(1)} |`);

subscriber.disconnect();
await Promise.all(redis.processes.map((child) => child.stop("SIGTERM", 5000)));
rmSync(dir, { recursive: true, force: true });
