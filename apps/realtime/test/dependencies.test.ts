import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CHECKED_AGAINST } from "../src/socket/internals/fast-path-check";
import { run } from "./helpers/run";

const ROOT = join(__dirname, "../../..");
const CHECK = join(ROOT, "tools/audit-check.mjs");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the node's dependencies", () => {
  it("declares every package src/ imports, each at a version that is installed", () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, "../package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const imported = new Set<string>();
    for (const file of filesUnder(join(__dirname, "../src"))) {
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(/from "([^".][^"]*)"/g)) {
        if (specifier.startsWith("node:")) continue;
        imported.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]);
      }
    }
    expect([...imported].filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });

  it("pins engine.io, ws and socket.io at the versions src/socket/internals was checked against, and runs those", () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, "../package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    // Node's lookup of a package folder from `dir` (engine.io's `exports` hides its package.json from resolve).
    const packageDir = (dir: string, name: string): string => {
      for (let at = dir; ; at = dirname(at)) {
        if (existsSync(join(at, "node_modules", name, "package.json"))) return join(at, "node_modules", name);
        if (at === dirname(at)) throw new Error(`${name} is not installed above ${dir}`);
      }
    };
    const versionOf = (name: string, dir = __dirname): string =>
      (JSON.parse(readFileSync(join(packageDir(dir, name), "package.json"), "utf8")) as { version: string }).version;
    for (const [name, version] of Object.entries(CHECKED_AGAINST)) {
      expect({ name, declared: manifest.dependencies[name] }).toEqual({ name, declared: version });
      expect({ name, installed: versionOf(name) }).toEqual({ name, installed: version });
    }
    // The copies socket.io and engine.io load themselves, not only the ones hoisted to the top.
    const socketIo = packageDir(__dirname, "socket.io");
    expect(versionOf("engine.io", socketIo)).toBe(CHECKED_AGAINST["engine.io"]);
    const engineIo = packageDir(socketIo, "engine.io");
    expect(versionOf("ws", engineIo)).toBe(CHECKED_AGAINST.ws);
  });
});

describe("tools/audit-check.mjs (the audit step of .ci/run)", () => {
  const advisory = (name: string, severity: string, ghsa: string) => ({
    name,
    severity,
    via: [{ source: 1, name, title: `a ${severity} bug`, url: `https://github.com/advisories/${ghsa}`, severity }],
  });
  const report = (vulnerabilities: Record<string, unknown>) =>
    JSON.stringify({ auditReportVersion: 2, vulnerabilities, metadata: { vulnerabilities: {} } });

  async function check(input: string, allowlist: unknown[] = [], env: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), "rt-audit-"));
    writeFileSync(join(dir, "report.json"), input);
    writeFileSync(join(dir, "allow.json"), JSON.stringify(allowlist));
    return run("bash", ["-c", `node ${CHECK} ${join(dir, "allow.json")} < ${join(dir, "report.json")}`], {
      env: { PATH: process.env.PATH, AUDIT_TODAY: "2026-12-04", ...env },
    });
  }

  it("passes a clean report and one with only low or moderate advisories", async () => {
    expect((await check(report({}))).code).toBe(0);
    expect((await check(report({ a: advisory("a", "moderate", "GHSA-aaaa") }))).code).toBe(0);
  });

  it("fails on a high or critical advisory, naming it", async () => {
    const result = await check(report({ b: advisory("b", "critical", "GHSA-bbbb"), c: { name: "c", via: ["b"] } }));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("critical b https://github.com/advisories/GHSA-bbbb");
    expect(result.stdout).toContain("1 blocking");
  });

  it("lets the allowlist excuse an advisory until its date", async () => {
    const input = report({ b: advisory("b", "high", "GHSA-bbbb") });
    const entry = { advisory: "GHSA-bbbb", package: "b", reason: "not reachable from our code", until: "2027-01-01" };
    expect((await check(input, [entry])).code).toBe(0);
    expect((await check(input, [{ ...entry, until: "2026-12-04" }])).code).toBe(1);
    expect((await check(input, [{ ...entry, package: "other" }])).code).toBe(1);
  });

  it("says loudly that nothing was checked when the advisory database is unreachable, and fails with AUDIT_STRICT=1", async () => {
    const unreachable = JSON.stringify({
      message: "405 Method Not Allowed - POST .../advisories/bulk",
      statusCode: 405,
    });
    const lenient = await check(unreachable);
    expect(lenient).toMatchObject({ code: 0 });
    expect(lenient.stdout).toContain("audit: NOT RUN");
    expect((await check(unreachable, [], { AUDIT_STRICT: "1" })).code).toBe(2);
  });
});
