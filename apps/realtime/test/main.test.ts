import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { run } from "./helpers/run";
import { until, json } from "./helpers/node";

/** The built entry point, as `npm start` and production run it. */
const MAIN = join(__dirname, "../dist/main.js");

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  port: () => number;
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
});

function start(env: Record<string, string>, cwd = mkdtempSync(join(tmpdir(), "rt-main-"))): Started {
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? "", ...env } });
  children.add(child);
  const started: Started = {
    child,
    stdout: [],
    stderr: [],
    port: () => {
      const line = started.stdout
        .join("")
        .split("\n")
        .find((l) => l.includes('"msg":"listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : 0;
    },
  };
  child.stdout?.on("data", (chunk: Buffer) => started.stdout.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => started.stderr.push(chunk.toString()));
  return started;
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve),
  );

describe("node apps/realtime/dist/main.js", () => {
  it("in development, prints a curl and a token that work as printed", async () => {
    const node = start({ PORT: "0", HOST: "127.0.0.1" });
    await until(() => node.stderr.join("").includes("curl "), 10000, "the printed example");
    const printed = node.stderr.join("");
    const token = /TOKEN=(\S+)/.exec(printed)![1];
    const curl = printed
      .split("\n")
      .find((line) => line.trim().startsWith("curl "))!
      .trim();
    expect((await fetch(`http://127.0.0.1:${node.port()}/health`).then((r) => json(r))).status).toBe("ok");

    const socket = io(`http://127.0.0.1:${node.port()}`, {
      auth: { token },
      transports: ["websocket"],
      reconnection: false,
    });
    try {
      await new Promise<void>(
        (resolve, reject) => (socket.once("connect", () => resolve()), socket.once("connect_error", reject)),
      );
      const received = new Promise((resolve) => socket.once("notification", (data, meta) => resolve({ data, meta })));
      const sent = await run("bash", ["-c", curl]);
      expect(JSON.parse(sent.stdout)).toMatchObject({ success: true, channel: "user.1" });
      expect(await received).toMatchObject({
        data: { title: "Hello from MechaMap Realtime" },
        meta: { channel: "user.1" },
      });
    } finally {
      socket.disconnect();
    }
  });

  it("lowers V8's tier-up threshold 5 s after it listens (JIT_INTERRUPT_BUDGET; 0 leaves V8's own)", async () => {
    const secrets = { JWT_SECRET: "s".repeat(32), LARAVEL_API_KEY: "k".repeat(16) };
    // The untouched node listens first: once the tuned one has said its line, the untouched one's
    // 5 s are up too, and what it said by then is all it would say.
    const untouched = start({ PORT: "0", HOST: "127.0.0.1", JIT_INTERRUPT_BUDGET: "0", ...secrets });
    await until(() => untouched.port() > 0, 10000, "listening");
    const tuned = start({ PORT: "0", HOST: "127.0.0.1", ...secrets });
    const lowered = (node: Started) => node.stdout.join("").includes('"msg":"jit tier-up threshold lowered"');
    await until(() => lowered(tuned), 15000, "the threshold lowered");
    expect(tuned.stdout.join("")).toContain('"interrupt_budget":8192');
    expect(lowered(untouched)).toBe(false);
  }, 30000);

  it("exits 0 on SIGTERM after draining", async () => {
    const node = start({ PORT: "0", HOST: "127.0.0.1", JWT_SECRET: "s".repeat(32), LARAVEL_API_KEY: "k".repeat(16) });
    await until(() => node.port() > 0, 10000, "listening");
    node.child.kill("SIGTERM");
    expect(await exitOf(node.child)).toBe(0);
    expect(node.stdout.join("")).toContain('"msg":"stopped"');
  });

  it("stops with exit code 1 and one line per bad variable", async () => {
    const node = start({ PORT: "http", LOG_LEVEL: "loud", NODE_ENV: "production" });
    expect(await exitOf(node.child)).toBe(1);
    const lines = node.stderr.join("").trim().split("\n");
    expect(lines).toEqual([
      'config: PORT must be a whole number from 0 to 65535, got "http"',
      'config: LOG_LEVEL must be one of error, warn, info, debug, got "loud"',
    ]);
  });

  it("requires real secrets in production", async () => {
    const node = start({ NODE_ENV: "production", JWT_SECRET: "short" });
    expect(await exitOf(node.child)).toBe(1);
    expect(node.stderr.join("")).toContain("config: JWT_SECRET must be at least 32 bytes in production");
    expect(node.stderr.join("")).toContain(
      "config: LARAVEL_API_KEY or WEBSOCKET_API_KEY_HASH is required in production",
    );
  });

  it("reads .env from its working directory, real variables winning, and masks secrets in --print-config", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "rt-env-"));
    writeFileSync(join(cwd, ".env"), "PORT=4567\nJWT_SECRET=from-dotenv-secret-0123456789\nHISTORY_SIZE=7\n");
    const result = await run(process.execPath, [MAIN, "--print-config"], {
      cwd,
      env: { PATH: process.env.PATH, HISTORY_SIZE: "9" },
    });
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ PORT: 4567, HISTORY_SIZE: 9, JWT_SECRET: "fr****89" });
    expect(result.stdout).not.toContain("from-dotenv-secret");
  });
});
