import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startNode, tokenFor, until } from "./helpers/node";

const ROOT = join(__dirname, "../../..");

/** An app's module that imports the package by name, as a bundler or Node would resolve it. */
const APP = `
import { connect } from "@mechamap/realtime-client";
const client = connect({ url: process.argv[1], token: process.argv[2], transports: ["websocket"] });
client.on("state", (state) => state === "connected" && console.log("connected"));
client.on("notification", (data, meta) => {
  console.log(JSON.stringify({ data, channel: meta.channel }));
  client.close();
});
`;

describe("the ES module build (dist/index.js)", () => {
  it("ships its types and works when imported by package name", async () => {
    expect(existsSync(join(__dirname, "../dist/index.d.ts"))).toBe(true);
    const node = await startNode();
    const app = spawn(process.execPath, ["--input-type=module", "-e", APP, node.url, tokenFor(5)], { cwd: ROOT });
    let output = "";
    app.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    app.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => app.once("exit", resolve));
    try {
      await until(() => output.includes("connected"), 10000, `the app to connect: ${output}`);
      await node.broadcast({ event: "notification", to: "user", user_id: 5, data: { title: "hi" } });
      expect(await exited).toBe(0);
      expect(output.trim().split("\n")).toEqual(["connected", '{"data":{"title":"hi"},"channel":"user.5"}']);
    } finally {
      app.kill();
    }
  });
});
