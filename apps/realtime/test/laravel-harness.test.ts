import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_KEY, JWT_SECRET, client, record, request, startNode, until } from "./helpers/node";
import { run } from "./helpers/run";

/** The seed's PHP, verbatim, in a real Laravel 8 app built from Debian packages. */
const HARNESS = join(__dirname, "../../../../shared/laravel-harness");

describe("the seed's Laravel code against a real node", () => {
  let app: string;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "laravel-harness-"));
    cpSync(join(HARNESS, "app-skeleton"), join(dir, "app"), { recursive: true });
    app = join(dir, "app");
    for (const sub of ["storage/logs", "storage/framework/cache", "storage/framework/views", "bootstrap/cache"]) {
      mkdirSync(join(app, sub), { recursive: true });
    }
  });
  afterAll(() => rmSync(join(app, ".."), { recursive: true, force: true }));

  const artisan = (url: string, ...args: string[]) =>
    run("php", ["artisan", ...args], {
      cwd: app,
      env: { ...process.env, WEBSOCKET_SERVER_URL: url, WEBSOCKET_API_KEY: API_KEY, LOG_CHANNEL: "stderr" },
    });

  const mintToken = async (userId: number): Promise<string> => {
    const minted = await run("php", [join(HARNESS, "mint-jwt.php"), String(userId)], {
      env: { ...process.env, JWT_SECRET },
    });
    expect(minted.code).toBe(0);
    return minted.stdout.trim();
  };

  it("passes php artisan realtime:test", async () => {
    const node = await startNode();
    const result = await artisan(node.url, "realtime:test");
    expect(result.stdout).toContain("Server status: ok");
    expect(result.code).toBe(0);
  });

  it("delivers harness:seed-calls 42 7 to sockets holding tokens from mint-jwt.php, data unchanged", async () => {
    const node = await startNode();
    const user = client(node.url, { auth: { token: await mintToken(42) } });
    const toUser = record(user);
    const viewer = client(node.url, { auth: { token: await mintToken(9) } });
    await new Promise<void>((resolve) => viewer.once("connect", () => resolve()));
    expect(await request(viewer, "subscribe", { thread_id: 7 })).toMatchObject({ ok: true, channel: "thread.7" });
    const toThread = record(viewer);
    await until(() => user.connected);

    const result = await artisan(node.url, "harness:seed-calls", "42", "7");
    const calls = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { call: string; args: [number, Record<string, unknown>]; result: unknown });
    expect(calls.map((c) => [c.call, c.result === true || (c.result as { status?: string }).status])).toEqual([
      ["sendNotificationToUser", true],
      ["sendThreadUpdate", true],
      ["sendNewReply", true],
      ["testConnection", "success"],
    ]);
    expect(result.code).toBe(0);

    await until(() => toUser.length === 1 && toThread.length === 2);
    expect(toUser[0]).toMatchObject({ event: "notification", data: calls[0].args[1], meta: { channel: "user.42" } });
    expect(toThread.map((e) => [e.event, e.data])).toEqual([
      ["thread_updated", calls[1].args[1]],
      ["new_reply", calls[2].args[1]],
    ]);
  });

  it("makes realtime:test fail when the key is wrong (the node answers 401 to the sends)", async () => {
    const node = await startNode();
    const result = await run("php", ["artisan", "harness:seed-calls", "42", "7", "--call=sendThreadUpdate"], {
      cwd: app,
      env: { ...process.env, WEBSOCKET_SERVER_URL: node.url, WEBSOCKET_API_KEY: "wrong", LOG_CHANNEL: "stderr" },
    });
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ call: "sendThreadUpdate", result: false });
    expect(result.code).toBe(1);
  });
});
