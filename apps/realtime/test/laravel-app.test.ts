import { API_KEY, JWT_SECRET, client, record, request, startNode, tokenFor, until } from "./helpers/node";
import { guideWire, installLaravelApp, LaravelApp } from "./helpers/laravel-app";

/** The Laravel side as a Laravel app runs it: the Composer package in a real Laravel 8 app. */
describe("a Laravel app with the package, against a real node", () => {
  let app: LaravelApp;
  beforeAll(async () => {
    app = await installLaravelApp();
  });
  afterAll(() => app.remove());

  const env = (url: string, key = API_KEY) => ({ WEBSOCKET_SERVER_URL: url, WEBSOCKET_API_KEY: key, JWT_SECRET });

  const tokenFromLaravel = async (userId: number): Promise<string> => {
    const issued = await app.artisan(["realtime:token", String(userId)], { JWT_SECRET });
    expect(issued).toMatchObject({ code: 0 });
    return issued.stdout.trim();
  };

  it("php artisan realtime:test prints the server status and exits 0 against a running node", async () => {
    const node = await startNode();
    const result = await app.artisan(["realtime:test"], env(node.url));
    expect(result.stdout).toContain("Server status: ok");
    expect(result.stdout).toContain("API key: accepted");
    expect(result.code).toBe(0);
  });

  it("php artisan realtime:test exits 1 when the key is wrong or the node is down", async () => {
    const node = await startNode();
    const wrongKey = await app.artisan(["realtime:test"], env(node.url, "not-the-key-0123456789"));
    expect(wrongKey.stdout + wrongKey.stderr).toContain("API key: rejected (401 unauthorized)");
    expect(wrongKey.code).toBe(1);

    const url = node.url;
    await node.stop();
    const down = await app.artisan(["realtime:test"], env(url));
    expect(down.stdout).toContain("Error: Connection error: cURL error 7");
    expect(down.code).toBe(1);
  });

  it("delivers realtime:calls 42 7 to sockets holding tokens issued by Laravel, data unchanged", async () => {
    const node = await startNode();
    const user = client(node.url, { auth: { token: await tokenFromLaravel(42) } });
    const toUser = record(user);
    const viewer = client(node.url, { auth: { token: await tokenFromLaravel(9) } });
    await new Promise<void>((resolve) => viewer.once("connect", () => resolve()));
    expect(await request(viewer, "subscribe", { thread_id: 7 })).toMatchObject({ ok: true, channel: "thread.7" });
    const toThread = record(viewer);
    await until(() => user.connected);

    const result = await app.artisan(["realtime:calls", "42", "7"], env(node.url));
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

  it("a wrong key makes every send return false (the node answers 401)", async () => {
    const node = await startNode();
    const result = await app.artisan(["realtime:calls", "42", "7", "--call=sendThreadUpdate"], env(node.url, "wrong"));
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ call: "sendThreadUpdate", result: false });
    expect(result.code).toBe(1);
  });
});

/**
 * The requests of the integration guide's service, byte for byte as recorded from its code
 * (packages/laravel/tests/fixtures/guide-wire.json; the package's PHPUnit suite checks that the
 * package sends the same): the node accepts each one and delivers its data unchanged.
 */
describe("the guide's recorded requests, replayed to a real node", () => {
  it("accepts the three sends and answers GET /health with status ok", async () => {
    const wire = guideWire();
    const node = await startNode({ LARAVEL_API_KEY: wire.api_key });
    const user = client(node.url, { auth: { token: tokenFor(wire.user_id) } });
    const toUser = record(user);
    const viewer = client(node.url, { auth: { token: tokenFor(9) } });
    await new Promise<void>((resolve) => viewer.once("connect", () => resolve()));
    expect(await request(viewer, "subscribe", { thread_id: wire.thread_id })).toMatchObject({ ok: true });
    const toThread = record(viewer);
    await until(() => user.connected);

    const answers: Array<[string, number, unknown]> = [];
    for (const sent of wire.requests) {
      const response = await fetch(node.url + sent.path, {
        method: sent.method,
        headers: sent.headers,
        body: sent.method === "GET" ? undefined : sent.body,
      });
      answers.push([sent.call, response.status, await response.json()]);
    }
    expect(answers.map(([call, status]) => [call, status])).toEqual(wire.requests.map((r) => [r.call, 200]));
    expect(answers.slice(0, 3).map(([, , body]) => body)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ success: true })),
    );
    expect(answers[3][2]).toMatchObject(wire.health_answer);

    await until(() => toUser.length === 1 && toThread.length === 2, 5000, "the three deliveries");
    expect(toUser[0]).toMatchObject({ event: "notification", data: wire.inputs.notification });
    expect(toThread.map((e) => [e.event, e.data])).toEqual([
      ["thread_updated", wire.inputs.thread_data],
      ["new_reply", wire.inputs.reply],
    ]);
  });
});
