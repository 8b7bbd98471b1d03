import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ECHO_BIN } from "../paths";
import { stopChild } from "../proc/children";
import { freePort } from "../proc/free-port";
import { waitForLine } from "../proc/lines";
import { startRedis, RunningRedis } from "../proc/redis-server";
import { getJson, sleep } from "./http-get";
import { spawnNode, withInstruments } from "./node-server";
import { BENCH_API_KEY } from "./secrets";
import type { RunningTarget, TargetOptions } from "./target";

const APP_ID = "bench";
/** Laravel's default Redis prefix for broadcasting, which echo PSUBSCRIBEs as `prefix*`. */
const KEY_PREFIX = "laravel_database_";

/**
 * laravel-echo-server 1.6.3 (socket.io 2.5 inside: clients speak EIO=3), started the documented way
 * (`server.js start`) in a throwaway directory holding its laravel-echo-server.json and lock file.
 */
export async function startEcho(options: TargetOptions): Promise<RunningTarget> {
  const redis = await startRedis(options.pinning);
  const dir = mkdtempSync(path.join(tmpdir(), "bench-echo-"));
  const cleanup = async (): Promise<void> => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    writeFileSync(path.join(dir, "laravel-echo-server.json"), JSON.stringify(echoConfig(port, redis), null, 2));
    const child = spawnNode("echo", ECHO_BIN, {}, options, ["start"], dir);
    try {
      await waitForLine(child.stdout!, (line) => (line.includes("Server ready") ? true : undefined), 15_000, "echo");
      child.stdout!.resume();
      await waitForHttp(`http://127.0.0.1:${port}/apps/${APP_ID}/status?auth_key=${BENCH_API_KEY}`);
    } catch (error) {
      await stopChild(child);
      throw error;
    }
    const node = withInstruments(child, port, options);
    const api = `http://127.0.0.1:${port}/apps/${APP_ID}`;
    return {
      name: "echo",
      url: `ws://127.0.0.1:${port}/socket.io/`,
      protocol: "eio3",
      auth: { kind: "none" },
      serverPids: [child.pid!],
      helperPids: [redis.pid],
      ingress: {
        kind: "redis",
        port: redis.port,
        redisChannel: (channel) => KEY_PREFIX + channel,
        message: (event, data) => JSON.stringify({ event, data, socket: null }),
      },
      httpIngress: {
        kind: "http",
        url: `${api}/events?auth_key=${BENCH_API_KEY}`,
        headers: { "Content-Type": "application/json" },
        body: (channel, event, data) => JSON.stringify({ channel, name: event, data }),
      },
      waitForSubscribers: (channel, count, timeoutMs) =>
        waitForCount(`${api}/channels/${encodeURIComponent(channel)}?auth_key=${BENCH_API_KEY}`, count, timeoutMs),
      heapAfterGc: node.heapAfterGc,
      stop: async () => {
        await node.stop();
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function echoConfig(port: number, redis: RunningRedis) {
  return {
    authHost: "http://127.0.0.1",
    authEndpoint: "/broadcasting/auth",
    clients: [{ appId: APP_ID, key: BENCH_API_KEY }],
    database: "redis",
    databaseConfig: { redis: { host: "127.0.0.1", port: redis.port, keyPrefix: KEY_PREFIX } },
    devMode: false,
    host: "127.0.0.1",
    port,
    protocol: "http",
    socketio: {},
    subscribers: { http: true, redis: true },
    apiOriginAllow: { allowCors: false, allowOrigin: "", allowMethods: "", allowHeaders: "" },
  };
}

async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await getJson(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** Subscribing to echo has no ack: its channel API says when every join has landed. */
async function waitForCount(url: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = (await getJson<{ subscription_count?: number }>(url)).subscription_count ?? 0;
    if (seen >= count) return;
    await sleep(100);
  }
  throw new Error(`echo: ${seen} of ${count} subscribers after ${timeoutMs} ms`);
}
