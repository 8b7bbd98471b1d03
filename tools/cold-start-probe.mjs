#!/usr/bin/env node
// The first seconds of a node started cold into a steady load of broadcast calls, in 100 ms steps:
// the node's CPU (its /proc stat, % of one core) and the worst send→arrival latency of the events
// sent in that step. Starts an embedded node pinned to core 0 (taskset), one socket.io-client
// subscriber, and `rate` calls/s of POST /api/broadcast for `seconds`; run it pinned to core 1.
// Extra node flags through NODE_FLAGS (e.g. "--trace-opt --trace-deopt"), extra env as JSON.
//
//   npm run build && taskset -c 1 node tools/cold-start-probe.mjs [rate=2000] [seconds=4] ['{"WARM_UP_CALLS":"0"}']
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(new URL("../apps/realtime/package.json", import.meta.url));
const { io } = require("socket.io-client");
const jwt = require("jsonwebtoken");
const main = fileURLToPath(new URL("../apps/realtime/dist/main.js", import.meta.url));
const rate = Number(process.argv[2] ?? 2000);
const seconds = Number(process.argv[3] ?? 4);
const [apiKey, secret, bucketMs] = ["k".repeat(32), "s".repeat(40), 100];
const env = {
  ...process.env,
  NODE_ENV: "test",
  PORT: "0",
  HOST: "127.0.0.1",
  LARAVEL_API_KEY: apiKey,
  JWT_SECRET: secret,
  LOG_LEVEL: "info",
  API_RATE_LIMIT: "1000000",
  ...JSON.parse(process.argv[4] ?? "{}"),
};
const flags = process.env.NODE_FLAGS ? process.env.NODE_FLAGS.split(" ") : [];
const child = spawn("taskset", ["-c", "0", process.execPath, ...flags, main], {
  env,
  stdio: ["ignore", "pipe", "inherit"],
});
// utime + stime, in clock ticks of 10 ms.
const cpuMs = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const port = await new Promise((resolve) => {
  let text = "";
  child.stdout.on("data", (chunk) => {
    text += chunk;
    const found = /"port":(\d+)/.exec(text);
    if (found) resolve(Number(found[1]));
  });
});
const socket = io(`http://127.0.0.1:${port}`, {
  transports: ["websocket"],
  auth: { token: jwt.sign({ sub: "1" }, secret, { algorithm: "HS256", expiresIn: "1h" }) },
});
await new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("connect_error", reject);
});
const answer = await socket.emitWithAck("subscribe", { channel: "probe.room" });
if (!answer.ok) throw new Error(`subscribe refused: ${JSON.stringify(answer)}`);

const t0 = performance.now();
const worst = [];
const cpuAt = [[t0, cpuMs()]];
let received = 0;
socket.on("tick", (data) => {
  received++;
  const step = Math.floor((data.s - t0) / bucketMs);
  worst[step] = Math.max(worst[step] ?? 0, performance.now() - data.s);
});
const sampler = setInterval(() => cpuAt.push([performance.now(), cpuMs()]), bucketMs);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const total = rate * seconds;
let sent = 0;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    for (; sent < due; sent++) {
      const body = JSON.stringify({
        event: "tick",
        to: "channel",
        channel: "probe.room",
        data: { s: performance.now() },
      });
      const headers = { "Content-Type": "application/json", "X-WebSocket-API-Key": apiKey };
      request({ host: "127.0.0.1", port, method: "POST", path: "/api/broadcast", agent, headers }, (res) =>
        res.resume(),
      ).end(body);
    }
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 1);
});
await new Promise((resolve) => setTimeout(resolve, 500));
clearInterval(sampler);

for (let i = 1; i < cpuAt.length && i <= seconds * 10; i++) {
  const pct = ((cpuAt[i][1] - cpuAt[i - 1][1]) / (cpuAt[i][0] - cpuAt[i - 1][0])) * 100;
  console.log(
    `${String((i - 1) * bucketMs).padStart(5)} ms  cpu ${pct.toFixed(0).padStart(3)} %  worst ${(worst[i - 1] ?? 0).toFixed(1)} ms`,
  );
}
const perSecond = Array.from({ length: seconds }, (_, s) =>
  Math.max(0, ...worst.slice(s * 10, s * 10 + 10).map((v) => v ?? 0)).toFixed(0),
);
console.log(`worst per second (ms): ${perSecond.join(" ")}; received ${received} of ${total}`);
socket.close();
agent.destroy();
child.kill("SIGTERM");
