#!/usr/bin/env node
import type { Cluster } from "./cluster";
import { parseCliArgs, USAGE } from "./cli-args";
import { describeExit } from "./managed-process";
import { startCluster } from "./start-cluster";

/**
 * `npm run cluster`: the cluster in the foreground. Exactly one line on stdout (READY + JSON) for
 * programs that start it; everything for humans goes to stderr.
 */
async function main(): Promise<number> {
  let command;
  try {
    command = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  // Listen for the stop signals before starting anything: a Ctrl-C during start-up must clean up too.
  // `on`, not `once`: a second Ctrl-C must not kill the runner and orphan its children mid-stop
  // (stop() has its own deadlines).
  let stopRequested: number | null = null;
  let wake: (exitCode: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => (wake = resolve));
  const requestStop = (exitCode: number): void => {
    stopRequested ??= exitCode;
    wake(stopRequested);
  };
  process.on("SIGINT", () => requestStop(0));
  process.on("SIGTERM", () => requestStop(0));

  let cluster: Cluster;
  try {
    cluster = await startCluster({
      ...command.options,
      onUnexpectedExit: ({ role, name, status }) => {
        process.stderr.write(`cluster: ${name} exited unexpectedly (${describeExit(status)})\n`);
        // Without nginx or Redis there is no cluster left to serve; a node alone may be a test's doing.
        if (role !== "node") requestStop(1);
      },
    });
  } catch (error) {
    process.stderr.write(`cluster: start-up failed: ${(error as Error).message}\n`);
    return 1;
  }
  if (stopRequested === null) {
    process.stdout.write(`READY ${JSON.stringify(cluster.ready())}\n`);
    process.stderr.write(
      `cluster: ${cluster.url} — ${cluster.nodes.length} nodes, ` +
        `${describeRedis(cluster)}; logs in ${cluster.logsDir}; Ctrl-C stops it\n`,
    );
  }

  const exitCode = await stopped;
  process.stderr.write("cluster: stopping (nodes, nginx, Redis)\n");
  await cluster.stop();
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`cluster: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

function describeRedis(cluster: Cluster): string {
  if (cluster.redisCluster) return `Redis Cluster ${cluster.redisCluster.map((node) => node.address).join(",")}`;
  return cluster.redis ? `Redis ${cluster.redis.url}` : "no Redis (embedded)";
}
