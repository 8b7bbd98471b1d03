import { createServer, request, RequestListener, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { broadcastLane, BroadcastLaneParts } from "../src/http/broadcast-lane";
import { RequestRecorder } from "../src/http/request-context";
import { createSilentLogger } from "../src/observability/logger";
import { RealtimeMetrics } from "../src/observability/metrics";
import { API_KEY, startNode, TestNode } from "./helpers/node";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a connection of its own, every header of the answer kept. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body = ""): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** What must be the same whichever way a call went: status, body (ids and offsets aside), headers. */
function comparable(answer: Answer) {
  const { date, "x-request-id": requestId, ...headers } = answer.headers;
  expect(date).toBeDefined();
  expect(requestId).toMatch(/^[\w.:-]+$/);
  return {
    status: answer.status,
    headers,
    body: answer.body.replace(/"(id|offset)":"[^"]*"/g, '"$1":"…"'),
  };
}

describe("the broadcast lane answers as the Koa route does", () => {
  // Nodes are stopped after each test (helpers/node.ts).
  let node: TestNode;
  let port: number;
  beforeEach(async () => {
    node = await startNode({ MAX_PAYLOAD_BYTES: "2048" });
    port = Number(new URL(node.url).port);
  });

  const json = { "Content-Type": "application/json", "X-WebSocket-API-Key": API_KEY };
  const valid = JSON.stringify({ event: "notification", to: "user", user_id: 42, data: { title: "hi" } });
  const cases: Array<[string, Record<string, string>, string]> = [
    ["accepted", json, valid],
    ["accepted, many users", json, JSON.stringify({ event: "e", to: "users", user_ids: [1, 2], data: {} })],
    ["with an idempotency key", { ...json, "Idempotency-Key": "lane-parity" }, valid],
    ["invalid", json, JSON.stringify({ event: "", to: "nobody", data: 1 })],
    ["broken JSON", json, '{"event":'],
    ["forbidden key", json, '{"event":"e","to":"all","data":{"__proto__":{}}}'],
    ["wrong content type", { ...json, "Content-Type": "text/plain" }, valid],
    ["too large", json, JSON.stringify({ event: "e", to: "all", data: { pad: "x".repeat(4096) } })],
    ["no key", { "Content-Type": "application/json" }, valid],
    ["wrong key", { ...json, "X-WebSocket-API-Key": "wrong" }, valid],
    ["bearer key", { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}` }, valid],
    ["bad socket id", { ...json, "X-Socket-ID": "not a socket id!" }, valid],
  ];

  it.each(cases)("%s", async (name, headers, body) => {
    // Each way gets its own idempotency key where the case has one, so the repeat repeats per way.
    const way = (suffix: string) =>
      headers["Idempotency-Key"] ? { ...headers, "Idempotency-Key": headers["Idempotency-Key"] + suffix } : headers;
    const requestId = `lane-${name.replace(/\W+/g, "-")}`;
    // A query string leaves the lane to Koa; the router matches the path alone.
    const viaKoa = await send(
      port,
      "POST",
      "/api/broadcast?via=koa",
      { ...way("-k"), "X-Request-Id": requestId },
      body,
    );
    const viaLane = await send(port, "POST", "/api/broadcast", { ...way("-l"), "X-Request-Id": requestId }, body);
    expect(comparable(viaLane)).toEqual(comparable(viaKoa));
    if (headers["Idempotency-Key"]) {
      // The repeat: answered from the first result, `duplicate: true`, the same way on both.
      const again = (path: string, suffix: string) => send(port, "POST", path, way(suffix), body);
      const [koaRepeat, laneRepeat] = [
        await again("/api/broadcast?via=koa", "-k"),
        await again("/api/broadcast", "-l"),
      ];
      expect(JSON.parse(laneRepeat.body)).toMatchObject({ duplicate: true, id: JSON.parse(viaLane.body).id });
      expect(comparable(laneRepeat)).toEqual(comparable(koaRepeat));
    }
    expect([viaLane.headers["x-request-id"], viaKoa.headers["x-request-id"]]).toEqual([requestId, requestId]);
    // One log line each, alike.
    const lines = node.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === "http request" && line.request_id === requestId)
      .map(({ method, route, status }) => ({ method, route, status }));
    expect(lines).toEqual([lines[0], lines[0]]);
    expect(lines[0]).toEqual({ method: "POST", route: "/api/broadcast", status: viaKoa.status });
  });
});

describe("the broadcast lane's way in", () => {
  let server: Server;
  let port: number;
  let call: BroadcastLaneParts["call"];
  beforeAll(async () => {
    const metrics = new RealtimeMetrics(new Registry());
    const parts: BroadcastLaneParts = {
      recorder: new RequestRecorder(createSilentLogger(), metrics),
      gate: async () => undefined,
      call: (req) => call(req),
      logger: createSilentLogger(),
    };
    const koa: RequestListener = (_req, res) => res.writeHead(299).end("koa");
    server = createServer(broadcastLane(parts, koa));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  beforeEach(() => {
    call = async () => ({ lane: true });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("takes POST /api/broadcast without an Origin, and leaves everything else to Koa", async () => {
    const way = async (method: string, path: string, headers: Record<string, string> = {}) =>
      (await send(port, method, path, headers)).status;
    expect(await way("POST", "/api/broadcast")).toBe(200);
    expect(await way("POST", "/api/broadcast", { Origin: "https://forum.example" })).toBe(299);
    expect(await way("POST", "/api/broadcast?x=1")).toBe(299);
    expect(await way("POST", "/api/broadcast/batch")).toBe(299);
    expect(await way("GET", "/api/broadcast")).toBe(299);
    expect(await way("OPTIONS", "/api/broadcast")).toBe(299);
  });

  it("drops the response of a call that fails past its answer, and keeps serving", async () => {
    // A BigInt cannot be serialised: the failure comes after the route, in the answer's making.
    call = async () => ({ big: 1n });
    await expect(send(port, "POST", "/api/broadcast", {})).rejects.toThrow(/socket hang up|ECONNRESET/);
    call = async () => ({ lane: true });
    const answer = await send(port, "POST", "/api/broadcast", {});
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: '{"lane":true}' });
  });
});
