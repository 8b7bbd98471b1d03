import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, BrowserContext, Page } from "playwright-core";

/** Debian's Chromium (tools/test-deps.sh installs it); playwright-core only drives it, it downloads nothing. */
const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Pages are closed after each test; the browser after the file (`close()` in afterAll). */
const pages = new Set<Page>();
afterEach(async () => {
  await Promise.all([...pages].map((page) => page.close()));
  pages.clear();
});

export interface TestBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile (its own --user-data-dir, removed at close). Each page is
 * a tab of its own, so each has its own sessionStorage, as two browser tabs would.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "rt-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1200, height: 760 },
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      pages.add(page);
      page.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
