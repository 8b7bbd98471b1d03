import { request as httpRequest } from "node:http";
import { API_KEY, startNode, TestNode, json } from "./helpers/node";

const valid = { event: "notification", to: "user", user_id: 42, data: { title: "hi" } };

async function expectError(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = (await json(response)) as Record<string, unknown>;
  expect({ status: response.status, success: body.success, error: body.error }).toEqual({
    status,
    success: false,
    error: code,
  });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  return body;
}

async function expectStillServing(node: TestNode): Promise<void> {
  const response = await node.api("/api/broadcast", { body: valid });
  expect(response.status).toBe(200);
  expect(await json(response)).toMatchObject({ success: true, channel: "user.42" });
}

/** Sends raw bytes with Node's http client, so that headers and bodies can be anything. */
function rawPost(url: string, headers: Record<string, string | number>, body: Buffer | string) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(`${url}/api/broadcast`, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP API errors", () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode();
  });

  it("answers 401 unauthorized without an API key", async () => {
    await expectError(
      await node.api("/api/broadcast", { body: valid, headers: { "X-WebSocket-API-Key": "" } }),
      401,
      "unauthorized",
    );
    await expectStillServing(node);
  });

  it("answers 401 unauthorized with a wrong API key", async () => {
    const response = await node.api("/api/broadcast", { body: valid, headers: { "X-WebSocket-API-Key": "wrong" } });
    await expectError(response, 401, "unauthorized");
    await expectStillServing(node);
  });

  it("accepts the key as a bearer token too", async () => {
    const response = await node.api("/api/broadcast", {
      body: valid,
      headers: { "X-WebSocket-API-Key": "", Authorization: `Bearer ${API_KEY}` },
    });
    expect(response.status).toBe(200);
  });

  it("accepts any key whose sha256 is listed in WEBSOCKET_API_KEY_HASH", async () => {
    const { createHash } = await import("node:crypto");
    const rotated = "rotated-key-abcdefghijklmnop";
    const hashed = await startNode({
      WEBSOCKET_API_KEY_HASH: `${"0".repeat(64)},${createHash("sha256").update(rotated).digest("hex")}`,
    });
    expect(
      (await hashed.api("/api/broadcast", { body: valid, headers: { "X-WebSocket-API-Key": rotated } })).status,
    ).toBe(200);
    expect(
      (await hashed.api("/api/broadcast", { body: valid, headers: { "X-WebSocket-API-Key": "other" } })).status,
    ).toBe(401);
  });

  it("answers 400 invalid_json for broken JSON", async () => {
    await expectError(await node.api("/api/broadcast", { body: '{"event": "x",' }), 400, "invalid_json");
    await expectStillServing(node);
  });

  it("answers 422 for a body nested deeper than MAX_JSON_DEPTH, and takes one just within it", async () => {
    const deep = (levels: number) => '{"a":'.repeat(levels) + "1" + "}".repeat(levels);
    const body = (levels: number) => `{"event":"notification","to":"user","user_id":42,"data":${deep(levels)}}`;
    const refused = await expectError(await node.api("/api/broadcast", { body: body(5000) }), 422, "validation_failed");
    expect(refused.details).toEqual([{ path: "body", message: "JSON nested deeper than 32 levels" }]);
    // The body is level 1: 31 levels of `data` make 32, the most accepted.
    expect((await node.api("/api/broadcast", { body: body(32) })).status).toBe(422);
    expect((await node.api("/api/broadcast", { body: body(31) })).status).toBe(200);
    // Brackets inside strings are text, not nesting.
    const inString = { ...valid, data: { text: "[[[[{{{{".repeat(100), quote: '\\"[[[' } };
    expect((await node.api("/api/broadcast", { body: inString })).status).toBe(200);
    await expectStillServing(node);
  });

  it("answers 415 unsupported_media_type for a form body", async () => {
    const response = await node.api("/api/broadcast", {
      body: "event=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    await expectError(response, 415, "unsupported_media_type");
    await expectStillServing(node);
  });

  it("answers 413 payload_too_large for a body over MAX_PAYLOAD_BYTES, read to its end", async () => {
    const huge = JSON.stringify({ ...valid, data: { blob: "x".repeat(200_000) } });
    const answer = await rawPost(
      node.url,
      { "Content-Type": "application/json", "X-WebSocket-API-Key": API_KEY },
      huge,
    );
    expect(answer).toMatchObject({ status: 413, body: { success: false, error: "payload_too_large" } });
    await expectStillServing(node);
  });

  it("answers 413 for an oversized chunked body without a Content-Length", async () => {
    const answer = await rawPost(
      node.url,
      { "Content-Type": "application/json", "X-WebSocket-API-Key": API_KEY, "Transfer-Encoding": "chunked" },
      Buffer.alloc(300_000, 0x20),
    );
    expect(answer).toMatchObject({ status: 413, body: { error: "payload_too_large" } });
    await expectStillServing(node);
  });

  it("answers 422 validation_failed with a detail per problem", async () => {
    const response = await node.api("/api/broadcast", {
      body: { event: "bad event!", to: "thread", thread_id: -3, data: "text", id: "" },
    });
    const body = await expectError(response, 422, "validation_failed");
    expect((body.details as Array<{ path: string }>).map((d) => d.path).sort()).toEqual([
      "data",
      "event",
      "id",
      "thread_id",
    ]);
    await expectStillServing(node);
  });

  it.each(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"])(
    "refuses the reserved event name %s",
    async (event) => {
      const body = await expectError(
        await node.api("/api/broadcast", { body: { ...valid, event } }),
        422,
        "validation_failed",
      );
      expect(body.details).toEqual([{ path: "event", message: expect.stringContaining("reserved") }]);
    },
  );

  it.each([
    ['{"event":"n","to":"user","user_id":1,"data":{"__proto__":{"admin":true}}}', "data.__proto__"],
    ['{"event":"n","to":"user","user_id":1,"data":{"a":[{"constructor":{"prototype":1}}]}}', "data.a[0].constructor"],
  ])("refuses prototype-pollution keys (%s)", async (raw, path) => {
    const body = await expectError(await node.api("/api/broadcast", { body: raw }), 422, "validation_failed");
    expect(body.details).toEqual([{ path, message: "forbidden key" }]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    await expectStillServing(node);
  });

  it("refuses wrong types, huge ids and unicode tricks in ids", async () => {
    for (const body of [
      { ...valid, user_id: "4\u200b2" },
      { ...valid, user_id: "9".repeat(100) },
      { ...valid, user_id: 1.5 },
      { ...valid, user_id: Number.MAX_SAFE_INTEGER + 2 },
      { ...valid, to: "users", user_ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
      { ...valid, to: "channel", channel: "no spaces" },
      { ...valid, to: "channel", channel: "all" },
      { ...valid, to: "channel", channel: "AAAAAAAAAAAAAAAAAAAA" },
      { ...valid, socket_id: "not a socket id" },
      { ...valid, event: "a".repeat(129) },
      { ...valid, event: 42 },
      [valid],
      null,
    ]) {
      await expectError(await node.api("/api/broadcast", { body: JSON.stringify(body) }), 422, "validation_failed");
    }
    await expectStillServing(node);
  });

  it("answers 404 not_found for an unknown route and 405 for a wrong method, as JSON", async () => {
    await expectError(await node.api("/api/nothing"), 404, "not_found");
    await expectError(await node.api("/api/broadcast", { method: "GET" }), 405, "method_not_allowed");
    await expectStillServing(node);
  });

  it("answers 429 rate_limited with Retry-After past API_RATE_LIMIT", async () => {
    const limited = await startNode({ API_RATE_LIMIT: "5" });
    const answers = await Promise.all(Array.from({ length: 12 }, () => limited.api("/api/broadcast", { body: valid })));
    const refused = answers.filter((response) => response.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0].headers.get("retry-after")).toBe("1");
    await expectError(refused[0], 429, "rate_limited");
  });

  it("validates a whole batch before sending any of it", async () => {
    const response = await node.api("/api/broadcast/batch", {
      body: { broadcasts: [valid, { ...valid, event: "disconnect" }] },
    });
    const body = await expectError(response, 422, "validation_failed");
    expect(body.details).toEqual([{ path: "broadcasts[1].event", message: expect.any(String) }]);
    const offsetBefore = ((await json(node.api("/api/broadcast", { body: valid }))) as { offset: string }).offset;
    expect(offsetBefore).toMatch(/-1$/);
  });

  it("gives an X-Request-Id to every answer, keeping a sane one given", async () => {
    const given = await node.api("/health", { headers: { "X-Request-Id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const made = await node.api("/health", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("never writes the API key or a token into the logs", async () => {
    await node.api("/api/broadcast", { body: valid });
    await node.api("/api/broadcast", { body: valid, headers: { "X-WebSocket-API-Key": "wrong-key-value" } });
    const logs = node.logs.join("");
    expect(logs).toContain('"request_id"');
    expect(logs).not.toContain(API_KEY);
    expect(logs).not.toContain("wrong-key-value");
  });
});
