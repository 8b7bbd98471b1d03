import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, RunResult } from "./run";

/** The project's Laravel test app and its fixtures (packages/laravel/tests). */
const LARAVEL_TESTS = join(__dirname, "../../../../packages/laravel/tests");

export interface LaravelApp {
  root: string;
  /** `php artisan ...` in the copy; real environment variables win over its config defaults. */
  artisan(args: string[], env?: Record<string, string>): Promise<RunResult>;
  remove(): void;
}

/**
 * A fresh copy of packages/laravel/tests/app (a real Laravel 8 app from Debian's packages) with
 * the Composer package installed into it by its install.php. Laravel writes caches and logs, so
 * every test suite gets its own copy.
 */
export async function installLaravelApp(): Promise<LaravelApp> {
  const dir = mkdtempSync(join(tmpdir(), "laravel-app-"));
  const root = join(dir, "app");
  const installed = await run("php", [join(LARAVEL_TESTS, "app/install.php"), root]);
  if (installed.code !== 0) throw new Error(`install.php failed: ${installed.stdout}${installed.stderr}`);
  return {
    root,
    artisan: (args, env = {}) =>
      run("php", ["artisan", ...args], { cwd: root, env: { ...process.env, LOG_CHANNEL: "stderr", ...env } }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What the integration guide's service put on the wire (packages/laravel/tests/fixtures/guide-wire.json). */
export interface GuideWire {
  api_key: string;
  user_id: number;
  thread_id: number;
  inputs: { notification: object; thread_data: object; reply: object };
  health_answer: { status: string };
  requests: Array<{ call: string; method: string; path: string; headers: Record<string, string>; body: string }>;
}

export const guideWire = (): GuideWire =>
  JSON.parse(readFileSync(join(LARAVEL_TESTS, "fixtures/guide-wire.json"), "utf8")) as GuideWire;
