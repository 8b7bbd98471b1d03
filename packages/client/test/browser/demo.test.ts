import { launchBrowser, TestBrowser } from "../helpers/browser";
import { startNode, until } from "../helpers/node";
import type { Page } from "playwright-core";

let browser: TestBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(() => browser.close());

/** Where to write a screenshot of the demo (`npm run screenshot` sets it to docs/demo.png). */
const SCREENSHOT = process.env.DEMO_SCREENSHOT;

async function reply(page: Page, userId: number, text: string): Promise<void> {
  await page.fill(`#user-${userId} form input`, text);
  await page.click(`#user-${userId} form button`);
}

const replies = (page: Page, userId: number) => page.locator(`#user-${userId} .replies li .body`).allTextContents();

async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).waitFor({ timeout: 20000 });
}

describe("the demo page", () => {
  it("opens at the URL npm start prints; there the two users see each other's replies, the bell and the online dots", async () => {
    const node = await startNode({ NODE_ENV: "development", PRESENCE_GRACE_MS: "300" }, false);
    await until(() => node.stderr().includes("/demo"), 10000, "the printed demo URL");
    const url = /(http:\/\/localhost:\d+\/demo)\s/.exec(node.stderr())![1];
    expect(node.stderr()).toContain("curl ");

    const page = await browser.newPage();
    await page.goto(url);
    await waitForText(page, "#user-1 .other", "Bob is online");
    await waitForText(page, "#user-2 .other", "Alice is online");

    await reply(page, 1, "Hiwin MGN12, preloaded.");
    await until(async () => (await replies(page, 2)).length === 1);
    await reply(page, 2, "Thanks! Single or double carriage?");
    await until(async () => (await replies(page, 1)).length === 2);
    expect(await replies(page, 1)).toEqual(["Hiwin MGN12, preloaded.", "Thanks! Single or double carriage?"]);
    expect(await replies(page, 2)).toEqual(await replies(page, 1));
    // The notification is a broadcast of its own (to the user's channel): it may come after the reply.
    await until(async () => (await page.textContent("#user-1 .bell .count")) === "1");
    await until(async () => (await page.textContent("#user-2 .bell .count")) === "1");

    // Bob goes away; Alice sees him go offline after the grace, and writes on: Bob gets it all back.
    await page.click("#user-2 .toggle");
    await waitForText(page, "#user-1 .other", "Bob is offline");
    await reply(page, 1, "Double, for the Z axis.");
    await until(async () => (await replies(page, 1)).length === 3);
    await reply(page, 1, "And 2 rails, 20 cm apart.");
    await until(async () => (await replies(page, 1)).length === 4);
    expect(await replies(page, 2)).toHaveLength(2);
    await page.click("#user-2 .toggle");
    await until(async () => (await replies(page, 2)).length === 4);
    expect(await replies(page, 2)).toEqual(await replies(page, 1));
    await waitForText(page, "#user-1 .other", "Bob is online");
    await until(async () => (await page.textContent("#user-2 .bell .count")) === "3");

    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("sends / to /demo, and has helpers that refuse bad input with a 422", async () => {
    const node = await startNode({ NODE_ENV: "development" });
    const post = (path: string, body: unknown) =>
      fetch(node.url + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post("/demo/token", { user_id: "../1" })).status).toBe(422);
    expect((await post("/demo/broadcast", { event: "new_reply", to: "thread" })).status).toBe(422);
    expect((await post("/demo/token", { user_id: 1 })).status).toBe(200);
    const root = await fetch(`${node.url}/`, { redirect: "manual" });
    expect([root.status, root.headers.get("location")]).toEqual([302, "/demo"]);
    expect(
      await (await post("/demo/broadcast", { event: "e", to: "user", user_id: 1, data: {} })).json(),
    ).toMatchObject({
      success: true,
    });
  });

  it("is a 404 in production, helpers and the / redirect included", async () => {
    const node = await startNode({ NODE_ENV: "production", CORS_ORIGINS: "https://forum.example" });
    const answers = await Promise.all([
      fetch(`${node.url}/`, { redirect: "manual" }),
      fetch(`${node.url}/demo`),
      fetch(`${node.url}/demo/demo.js`),
      fetch(`${node.url}/demo/realtime-client.global.js`),
      fetch(`${node.url}/demo/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: '{"user_id":1}',
      }),
      fetch(`${node.url}/demo/broadcast`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(await answers[1].json()).toMatchObject({ success: false, error: "not_found" });
  });
});
