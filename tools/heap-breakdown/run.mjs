/**
 * What one idle connection costs on our node, object by object (issue 14, T5).
 *
 * Starts the built node (apps/realtime/dist/main.js, embedded mode, loopback only) with this folder's
 * probe, opens N real socket.io-client WebSocket connections, each authenticated as its own user (so it
 * is in its user channel) and subscribed to one thread, takes a heap snapshot after full GCs, opens N
 * more, takes another, and prints analyze.mjs's per-connection breakdown of the difference.
 *
 *   npm run build && node tools/heap-breakdown/run.mjs [--connections 2000] [--idle-ms 1500] [--keep]
 *     [--main path/to/main.js]
 *
 * --idle-ms is how long the connections stay idle before each snapshot: past 25000 every one has had
 * an Engine.IO ping and answered it, as a long-lived idle connection has.
 *
 * Snapshots go to a temporary folder, removed at the end unless --keep.
 */
import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import jwt from "jsonwebtoken";
import { io } from "socket.io-client";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1];
};
const connections = Number(option("connections", "2000"));
const main = resolve(option("main", join(here, "../../apps/realtime/dist/main.js")));
const idleMs = Number(option("idle-ms", "1500"));
const keep = args.includes("--keep");
const dir = mkdtempSync(join(tmpdir(), "heap-breakdown-"));
const secret = randomBytes(32).toString("hex");

const server = fork(main, [], {
  execArgv: ["--expose-gc", "-r", join(here, "probe.cjs")],
  env: {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    NODE_ID: "heap-breakdown",
    LARAVEL_API_KEY: randomBytes(16).toString("hex"),
    JWT_SECRET: secret,
    LOG_LEVEL: "info",
  },
  stdio: ["ignore", "pipe", "inherit", "ipc"],
});

const clients = [];
try {
  const port = await listeningPort(server);
  const url = `http://127.0.0.1:${port}`;
  const samples = [await snapshot(undefined)];
  for (const level of [connections, 2 * connections]) {
    await connect(url, level - clients.length);
    await new Promise((done) => setTimeout(done, idleMs));
    samples.push(await snapshot(join(dir, `at-${level}.heapsnapshot`)));
    console.error(
      `${level} connections: heap ${mb(samples.at(-1).heapUsedBytes)} MB, RSS ${mb(samples.at(-1).rssBytes)} MB`,
    );
  }
  for (const client of clients) client.disconnect();
  server.kill("SIGTERM");
  const [base, first, second] = samples;
  console.log(
    `Heap used after GC (process.memoryUsage): ${mb(base.heapUsedBytes)} MB idle, ` +
      `${mb(first.heapUsedBytes)} MB at ${connections}, ${mb(second.heapUsedBytes)} MB at ${2 * connections}: ` +
      `${((second.heapUsedBytes - first.heapUsedBytes) / connections).toFixed(0)} B per added connection, ` +
      `${((first.heapUsedBytes - base.heapUsedBytes) / connections).toFixed(0)} B per connection from idle.\n`,
  );
  // The analysis parses both snapshots: a process of its own, with room for them.
  const analysis = spawn(
    process.execPath,
    ["--max-old-space-size=8192", join(here, "analyze.mjs"), first.path, second.path, String(connections)],
    { stdio: "inherit" },
  );
  const code = await new Promise((done) => analysis.once("exit", done));
  process.exitCode = code ?? 1;
} finally {
  for (const client of clients) client.disconnect();
  if (server.exitCode === null) server.kill("SIGTERM");
  if (keep) console.error(`snapshots kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function mb(bytes) {
  return (bytes / 1e6).toFixed(1);
}

function listeningPort(child) {
  return new Promise((done, fail) => {
    const lines = createInterface({ input: child.stdout });
    child.once("exit", (code) => fail(new Error(`the node exited with ${code} before listening`)));
    lines.on("line", (line) => {
      if (!line.includes('"listening"')) return;
      const parsed = JSON.parse(line);
      if (parsed.msg === "listening" && typeof parsed.port === "number") {
        child.stdout.resume();
        done(parsed.port);
      }
    });
  });
}

function snapshot(path) {
  return new Promise((done) => {
    const answer = (message) => {
      if (message?.type !== "heap:written") return;
      server.off("message", answer);
      done(message);
    };
    server.on("message", answer);
    server.send({ type: "heap:snapshot", path });
  });
}

/** Opens `count` more connections, 50 at a time; each resolves once its subscribe is acknowledged. */
async function connect(url, count) {
  for (let opened = 0; opened < count;) {
    const batch = [];
    for (; opened < count && batch.length < 50; opened++) batch.push(openOne(url, clients.length + batch.length + 1));
    clients.push(...(await Promise.all(batch)));
  }
}

function openOne(url, userId) {
  const token = jwt.sign({ sub: String(userId) }, secret, { algorithm: "HS256", expiresIn: "1h" });
  const client = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token } });
  return new Promise((done, fail) => {
    client.once("connect_error", fail);
    client.once("connect", () => {
      client.timeout(10_000).emit("subscribe", { thread_id: 1 }, (error, answer) => {
        if (error || !answer?.ok) fail(new Error(`subscribe failed: ${error ?? JSON.stringify(answer)}`));
        else done(client);
      });
    });
  });
}
