import { ChildProcess, spawn } from "node:child_process";
import { rmSync, statSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ReadyInfo } from "../src";
import { get, gone } from "./helpers";

const CLI = join(__dirname, "..", "dist", "cli.js");

/** The CLI runs from dist/: a stale build would test old code, so say so instead. */
function assertBuilt(): void {
  const built = statSync(CLI).mtimeMs;
  const src = join(__dirname, "..", "src");
  const stale = readdirSync(src).filter((file) => statSync(join(src, file)).mtimeMs > built);
  if (stale.length > 0) throw new Error(`dist/ is older than src/ (${stale.join(", ")}): npm run build first`);
}

function run(args: string[]): { child: ChildProcess; stdout: string[]; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk.toString()));
  child.stderr?.resume();
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, stdout, exit };
}

function readyLine(child: ChildProcess): Promise<ReadyInfo> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split("\n").find((text) => text.startsWith("READY "));
      if (line) resolve(JSON.parse(line.slice("READY ".length)) as ReadyInfo);
    });
    child.once("close", (code) => reject(new Error(`cli exited with ${code} before READY`)));
  });
}

describe("the cluster CLI", () => {
  beforeAll(assertBuilt);

  it("prints one READY line, serves through nginx, and stops everything with exit 0 on SIGTERM", async () => {
    const { child, stdout, exit } = run(["--nodes", "2", "--port", "0", "--no-redis"]);
    const ready = await readyLine(child);
    try {
      expect(ready).toMatchObject({ redis: null, nginx_port: expect.any(Number), logs: expect.any(String) });
      expect(ready.nodes.map((node) => node.id)).toEqual(["node-1", "node-2"]);
      expect(ready.jwt_secret).toMatch(/^[0-9a-f]{64}$/);
      expect((await get(`${ready.url}/health`)).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exit).toBe(0);
    expect(stdout.join("").trim().split("\n")).toHaveLength(1);
    for (const pid of [...ready.nodes.map((node) => node.pid), ready.nginx_pid]) {
      expect({ pid, gone: gone(pid, { group: true }) }).toEqual({ pid, gone: true });
    }
    // The CLI keeps its logs for the operator; this test cleans up after itself.
    rmSync(dirname(ready.logs), { recursive: true, force: true });
  });

  it("rejects an unknown option with exit code 2 and the usage", async () => {
    const { exit } = run(["--nodes", "2", "--bogus"]);
    expect(await exit).toBe(2);
  });
});
