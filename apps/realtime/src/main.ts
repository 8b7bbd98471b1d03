import { Registry } from "prom-client";
import { createRealtimeApp } from "./app";
import { describeConfig, loadConfig, readEnvironment } from "./config/load-config";
import { rereadApiKeys } from "./config/reread-api-keys";
import { developmentExample } from "./dev-example";
import { createLogger, errorDetail } from "./observability/logger";
import { RealtimeMetrics } from "./observability/metrics";
import { createEmbeddedState } from "./state/embedded-state";
import { createRedisState } from "./state/redis-state";
import { systemClock, systemScheduler } from "./core/ports";
import { lowerTierUpThreshold, TIER_UP_DELAY_MS } from "./jit-tier-up";

/** Composition root: load config → build parts → start → handle signals. */
async function main(): Promise<void> {
  const { config, problems, generated } = loadConfig(readEnvironment(process.cwd(), process.env));
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`config: ${problem}\n`);
    process.exit(1);
  }
  if (process.argv.includes("--print-config")) {
    process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    return;
  }
  const logger = createLogger({ nodeId: config.nodeId, level: config.logLevel, format: config.logFormat });
  const metrics = new RealtimeMetrics(new Registry());
  const clustered = Boolean(config.redisUrl) || config.redisClusterNodes.length > 0;
  const [clock, scheduler] = [systemClock, systemScheduler];
  const state = clustered
    ? await createRedisState(config, {
        onError: (error) => logger.error("redis presence failed", errorDetail(error)),
        clock,
        scheduler,
      })
    : createEmbeddedState({ historySize: config.historySize, historyTtlS: config.historyTtlS, clock, scheduler });
  const app = createRealtimeApp({ config, logger, metrics, state, clock, scheduler });
  // Signals are handled before the node listens: a SIGTERM right after "listening" (a supervisor, a
  // test) must drain, not kill the process with the default action.
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info("draining", { signal });
    const hardDeadline = setTimeout(() => {
      logger.error("shutdown deadline passed; exiting", { timeout_ms: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);
    hardDeadline.unref();
    app.stop().then(
      () => {
        logger.info("stopped");
        logger.on("finish", () => process.exit(0));
        logger.end();
      },
      (error: unknown) => {
        logger.error("shutdown failed", errorDetail(error));
        process.exit(1);
      },
    );
  };
  // Key rotation without a restart: the accepted API keys are read again from the .env file.
  process.on("SIGHUP", () => {
    const keys = rereadApiKeys(process.cwd(), process.env);
    if (!keys.ok) {
      logger.error("SIGHUP: the environment file was not taken; API keys unchanged", { problems: keys.problems });
      return;
    }
    if (keys.pinned.length > 0) {
      logger.warn("SIGHUP: set in the process environment, which wins over .env", { variables: keys.pinned });
    }
    logger.info("api keys reloaded", { active: app.reloadApiKeys(keys.laravelApiKey, keys.apiKeyHashes) });
  });
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  const address = await app.start();
  logger.info("listening", { port: address.port, host: address.address, mode: state.health.mode });
  scheduler.after(TIER_UP_DELAY_MS, () => {
    if (lowerTierUpThreshold(config.jitInterruptBudget)) {
      logger.info("jit tier-up threshold lowered", { interrupt_budget: config.jitInterruptBudget });
    }
  });
  if (generated.jwtSecret || generated.apiKey) {
    process.stderr.write(developmentExample(config, generated, address.port));
  }
  process.on("unhandledRejection", (reason) => logger.error("unhandled rejection", errorDetail(reason)));
  if (config.nodeEnv !== "production") logger.info("demo page", { url: `http://localhost:${address.port}/demo` });
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
