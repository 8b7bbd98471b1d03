import { spawn, ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKeyVerifier } from "../src/auth/api-key-verifier";
import { rereadApiKeys } from "../src/config/reread-api-keys";
import { startLaravelStub } from "./helpers/laravel-stub";
import {
  connectError,
  connected,
  record,
  request,
  startNode,
  tokenFor,
  until,
  API_KEY,
  JWT_SECRET,
  type Received,
} from "./helpers/node";

const PREVIOUS = "the-secret-laravel-used-until-today-0123456789";
const THIRD = "a-secret-nobody-configured-on-the-node-0123456";
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("JWT_SECRET_PREVIOUS", () => {
  const rotating = () =>
    startNode({ NODE_ENV: "production", CORS_ORIGINS: "http://localhost", JWT_SECRET_PREVIOUS: PREVIOUS });

  it("accepts tokens of the current and of the previous secret, and refuses a third", async () => {
    const node = await rotating();
    expect((await connected(node.url, { auth: { token: tokenFor(1) } })).connected).toBe(true);
    expect((await connected(node.url, { auth: { token: tokenFor(2, {}, PREVIOUS) } })).connected).toBe(true);
    const refused = await connectError(node.url, { auth: { token: tokenFor(3, {}, THIRD) } });
    expect(refused.data).toEqual({ code: "token_invalid" });
    const expired = await connectError(node.url, { auth: { token: tokenFor(4, { expiresIn: -60 }, PREVIOUS) } });
    expect(expired.data).toEqual({ code: "token_expired" });
  });

  it("accepts a previous-secret token in auth:refresh, not a third secret's", async () => {
    const node = await rotating();
    const socket = await connected(node.url, { auth: { token: tokenFor(1) } });
    expect(await request(socket, "auth:refresh", { token: tokenFor(1, {}, PREVIOUS) })).toEqual({ ok: true });
    expect(await request(socket, "auth:refresh", { token: tokenFor(1, {}, THIRD) })).toEqual({
      ok: false,
      error: "invalid",
    });
  });

  it("logs once at start which secrets are active, never their values", async () => {
    const node = await rotating();
    const lines = node.logs.filter((line) => line.includes('"msg":"secrets active"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ jwt: ["JWT_SECRET", "JWT_SECRET_PREVIOUS"], api_keys: 1 });
    expect(node.logs.join("")).not.toContain(PREVIOUS);
    expect(node.logs.join("")).not.toContain(JWT_SECRET);
  });
});

describe("API keys", () => {
  it("are replaced at once, each counted once, by replace()", () => {
    const keys = createApiKeyVerifier("old-key-0123456789", []);
    expect(keys.identify("old-key-0123456789")).toBeDefined();
    keys.replace("new-key-0123456789", [sha256("old-key-0123456789"), sha256("new-key-0123456789")]);
    expect(keys.count).toBe(2);
    expect(keys.identify("old-key-0123456789")).toBeDefined();
    keys.replace("new-key-0123456789", []);
    expect(keys.identify("old-key-0123456789")).toBeUndefined();
    expect(keys.identify("new-key-0123456789")).toBeDefined();
  });

  it("answer a key seen before like the first time, and a near miss of it not at all", () => {
    const keys = createApiKeyVerifier("raw-key-0123456789", [sha256("hashed-key-0123456789")]);
    const raw = keys.identify("raw-key-0123456789");
    const hashed = keys.identify("hashed-key-0123456789");
    expect(raw).toMatch(/^[0-9a-f]{12}$/);
    expect(hashed).toMatch(/^[0-9a-f]{12}$/);
    expect(raw).not.toBe(hashed);
    for (let i = 0; i < 3; i++) {
      expect(keys.identify("raw-key-0123456789")).toBe(raw);
      expect(keys.identify("hashed-key-0123456789")).toBe(hashed);
      expect(keys.identify("raw-key-0123456780")).toBeUndefined();
      expect(keys.identify("raw-key-012345678")).toBeUndefined();
    }
  });

  it("once reloaded, are the ones a node accepts and the one its callbacks to Laravel carry", async () => {
    const laravel = await startLaravelStub(() => ({ status: 200, body: { ok: true } }));
    const node = await startNode({ LARAVEL_API_URL: laravel.url });
    await connected(node.url, { auth: { token: tokenFor(1) } });
    await until(() => laravel.calls.length === 1, 5000, "the first webhook");
    expect(laravel.calls[0].headers["x-websocket-api-key"]).toBe(API_KEY);

    const NEW = "the-next-api-key-0123456789";
    expect(node.app.reloadApiKeys(NEW, [sha256(API_KEY)])).toBe(2);
    await connected(node.url, { auth: { token: tokenFor(2) } });
    await until(() => laravel.calls.length === 2, 5000, "the second webhook");
    expect(laravel.calls[1].headers["x-websocket-api-key"]).toBe(NEW);
    expect((await node.api("/api/presence/users/1")).status).toBe(200);
    expect((await node.api("/api/presence/users/1", { headers: { "X-WebSocket-API-Key": NEW } })).status).toBe(200);

    node.app.reloadApiKeys(NEW, []);
    expect((await node.api("/api/presence/users/1")).status).toBe(401);
  });

  it("are re-read from the .env file, which a broken edit does not change, and the process environment pins", () => {
    const cwd = mkdtempSync(join(tmpdir(), "rt-keys-"));
    writeFileSync(join(cwd, ".env"), `LARAVEL_API_KEY=new-key-0123456789\nWEBSOCKET_API_KEY_HASH=${"a".repeat(64)}\n`);
    expect(rereadApiKeys(cwd, {})).toEqual({
      ok: true,
      laravelApiKey: "new-key-0123456789",
      apiKeyHashes: ["a".repeat(64)],
      pinned: [],
    });
    expect(rereadApiKeys(cwd, { LARAVEL_API_KEY: "from-the-process-0123" })).toMatchObject({
      laravelApiKey: "from-the-process-0123",
      pinned: ["LARAVEL_API_KEY"],
    });
    writeFileSync(join(cwd, ".env"), "WEBSOCKET_API_KEY_HASH=not-hex\n");
    expect(rereadApiKeys(cwd, {})).toEqual({
      ok: false,
      problems: ["WEBSOCKET_API_KEY_HASH must be comma-separated sha256 hex digests (64 hex characters each)"],
    });
  });
});

describe("SIGHUP on the built node (API key rotation while broadcasts are posted)", () => {
  const MAIN = join(__dirname, "../dist/main.js");
  const OLD = "old-api-key-0123456789abcdef";
  const NEW = "new-api-key-9876543210fedcba";
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill("SIGKILL"));

  it("keeps every call the old key got accepted, accepts the new key right after, and refuses the old one once removed", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "rt-sighup-"));
    const envFile = (keys: string): void =>
      writeFileSync(
        join(cwd, ".env"),
        `NODE_ENV=production\nHOST=127.0.0.1\nPORT=0\nCORS_ORIGINS=http://localhost\nJWT_SECRET=${JWT_SECRET}\n${keys}\n`,
      );
    envFile(`LARAVEL_API_KEY=${OLD}`);
    const started = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? "" } });
    child = started;
    const stdout: string[] = [];
    started.stdout.on("data", (chunk: Buffer) => stdout.push(...chunk.toString().split("\n").filter(Boolean)));
    const logged = (msg: string) => stdout.filter((line) => line.includes(`"msg":"${msg}"`));
    await until(() => logged("listening").length === 1, 10000, "the node to listen");
    const url = `http://127.0.0.1:${(JSON.parse(logged("listening")[0]) as { port: number }).port}`;

    const socket = await connected(url, { auth: { token: tokenFor(1) } });
    const received: Received[] = record(socket);
    const post = (key: string, n: number) =>
      fetch(`${url}/api/broadcast`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-WebSocket-API-Key": key },
        body: JSON.stringify({ event: "notification", to: "user", user_id: 1, data: { n } }),
      }).then(async (response) => ({ n, status: response.status, body: (await response.json()) as { id?: string } }));

    // Four posters with the old key, until told to stop (bounded).
    const answers: Array<{ n: number; status: number; body: { id?: string } }> = [];
    let stop = false;
    let next = 0;
    let secondHupAt = Infinity;
    const poster = async (): Promise<void> => {
      while (!stop && next < 3000) {
        const n = next++;
        answers.push(await post(OLD, n));
      }
    };
    const posters = Promise.all([poster(), poster(), poster(), poster()]);
    const accepted = () => answers.filter((a) => a.status === 200).length;

    await until(() => accepted() >= 100, 10000, "calls before the rotation");
    // Step 1: the new key becomes the node's own, the old one stays accepted by its hash.
    envFile(`LARAVEL_API_KEY=${NEW}\nWEBSOCKET_API_KEY_HASH=${sha256(OLD)}`);
    started.kill("SIGHUP");
    await until(() => logged("api keys reloaded").length === 1, 5000, "the first reload");
    expect(JSON.parse(logged("api keys reloaded")[0])).toMatchObject({ active: 2 });
    const withNewKey = [await post(NEW, -1)];
    expect(withNewKey[0].status).toBe(200);

    const beforeSecond = accepted();
    await until(() => accepted() >= beforeSecond + 100, 10000, "old-key calls between the reloads");
    // Step 2: the old key is retired.
    envFile(`LARAVEL_API_KEY=${NEW}`);
    secondHupAt = next;
    started.kill("SIGHUP");
    await until(() => logged("api keys reloaded").length === 2, 5000, "the second reload");
    expect(JSON.parse(logged("api keys reloaded")[1])).toMatchObject({ active: 1 });
    await until(() => answers.some((a) => a.status === 401), 5000, "the old key to be refused");
    stop = true;
    await posters;
    withNewKey.push(await post(NEW, -2));
    expect(withNewKey[1].status).toBe(200);

    // Every answer was an acceptance or, after the old key was retired, a refusal; nothing else.
    expect(answers.every((a) => a.status === 200 || a.status === 401)).toBe(true);
    expect(answers.filter((a) => a.status === 401).every((a) => a.n >= secondHupAt - 4)).toBe(true);
    // Every accepted call was delivered, once.
    const acceptedIds = [...answers, ...withNewKey].filter((a) => a.status === 200).map((a) => a.body.id);
    expect(acceptedIds.length).toBeGreaterThanOrEqual(202);
    await until(() => received.length >= acceptedIds.length, 10000, "every accepted broadcast to arrive");
    const deliveredIds = received.filter((r) => r.event === "notification").map((r) => r.meta?.id);
    expect(deliveredIds).toHaveLength(acceptedIds.length);
    expect(new Set(deliveredIds)).toEqual(new Set(acceptedIds));

    process.stdout.write(
      `SIGHUP rotation: ${answers.length} calls with the old key (${answers.filter((a) => a.status === 200).length} accepted, ` +
        `${answers.filter((a) => a.status === 401).length} refused after its removal), ${deliveredIds.length} delivered\n`,
    );

    // A broken edit changes nothing.
    envFile(`LARAVEL_API_KEY=${NEW}\nWEBSOCKET_API_KEY_HASH=zzz`);
    started.kill("SIGHUP");
    await until(() => logged("SIGHUP: the environment file was not taken; API keys unchanged").length === 1);
    expect((await post(NEW, -3)).status).toBe(200);
    expect(stdout.join("\n")).not.toMatch(new RegExp(`${OLD}|${NEW}|${JWT_SECRET}`));
  });
});
