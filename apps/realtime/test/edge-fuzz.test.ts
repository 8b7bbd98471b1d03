import { connect } from "node:net";
import { EVENT_NAME_PATTERN } from "@mechamap/protocol";
import type { Socket } from "socket.io-client";
import WebSocket from "ws";
import { API_KEY, JWT_SECRET, client, connected, record, request, startNode, tokenFor, until } from "./helpers/node";
import { httpRequest, rawExchange, RawExchange } from "./helpers/raw-http";

/**
 * A seeded fuzz run against a production-mode node: the HTTP API and the Socket.IO edge get random
 * bytes, random JSON, deep nesting, 16 KB tokens, 64 KB query strings, 1000 headers and slow
 * headers, in a fixed number of cases, each bounded in time. Rerun a failure with FUZZ_SEED=<seed>.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const HTTP_CASES = 400;
const SOCKET_EMITS = 300;
const BAD_HANDSHAKES = 40;
const RAW_WEBSOCKETS = 20;

/** mulberry32: small, seeded, good enough to pick cases. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const STRINGS = [
    "",
    "__proto__",
    "constructor",
    "prototype",
    "\u202e7",
    "7\u0000",
    "😀",
    "a".repeat(200),
    "thread.1",
  ];
  const KEYS = ["__proto__", "constructor", "event", "to", "data", "user_id", "user_ids", "thread_id", "channel", "id"];
  const text = (): string => (next() < 0.5 ? pick(STRINGS) : bytes(int(40)).toString("latin1"));
  const json = (depth: number): unknown => {
    const kind = depth <= 0 ? int(4) : int(6);
    if (kind === 0) return pick([null, true, false]);
    if (kind === 1) return pick([0, -1, 1, 1e308, -0, 2 ** 53 + 1, 0.5, 1.2345678901234568e29]);
    if (kind === 2 || kind === 3) return text();
    if (kind === 4) return Array.from({ length: int(5) }, () => json(depth - 1));
    const object: Record<string, unknown> = {};
    for (let i = int(6); i > 0; i--) object[next() < 0.7 ? pick(KEYS) : text()] = json(depth - 1);
    return object;
  };
  return { next, int, pick, bytes, json, text };
}

const nested = (depth: number, open: string, close: string, inner = "1"): string =>
  open.repeat(depth) + inner + close.repeat(depth);

const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(.*:\d+:\d+\)/;

describe(`a seeded fuzz run of the edge (FUZZ_SEED=${SEED})`, () => {
  jest.setTimeout(120_000);

  it("answers everything with a 2xx, a 4xx or a closed connection, leaks nothing, delivers nothing invalid, and keeps serving", async () => {
    const node = await startNode({
      NODE_ENV: "production",
      CORS_ORIGINS: "http://localhost",
      HTTP_HEADERS_TIMEOUT_MS: "1000",
      HTTP_REQUEST_TIMEOUT_MS: "1000",
      SOCKET_EVENT_RATE_LIMIT: "500",
      MAX_CONNECTIONS_PER_USER: "1000",
    });
    const port = Number(new URL(node.url).port);
    const rng = random(SEED);
    const startedAt = Date.now();

    // A watcher that must only ever see what the API accepted.
    const watcher = await connected(node.url, { auth: { token: tokenFor(1) } });
    await request(watcher, "subscribe", { thread_id: 1 });
    const delivered = record(watcher);

    // --- HTTP ---
    const key: Array<[string, string]> = [["X-WebSocket-API-Key", API_KEY]];
    const json: Array<[string, string]> = [...key, ["Content-Type", "application/json"]];
    const validBroadcast = () => ({
      event: rng.pick(["notification", "new_reply", "thread_updated", "x:y.z-1"]),
      to: rng.pick(["user", "users", "thread", "channel", "all"]),
      user_id: 1,
      user_ids: [1, 2],
      thread_id: 1,
      channel: "thread.1",
      data: { n: rng.int(1000) },
    });
    const mutated = (): Record<string, unknown> => {
      const body: Record<string, unknown> = validBroadcast();
      const fields = Object.keys(body);
      for (let i = rng.int(3); i > 0; i--) body[rng.pick(fields)] = rng.json(3);
      return body;
    };
    const cases: Array<{ kind: string; bytes: Buffer; transportLevel?: boolean }> = [];
    for (let i = 0; i < HTTP_CASES; i++) {
      const kind = rng.pick([
        "random bytes",
        "random body",
        "random JSON",
        "mutated broadcast",
        "mutated batch",
        "deep nesting",
        "16 KB token",
        "64 KB query",
        "1000 headers",
        "random route",
        "short body",
      ] as const);
      let bytes: Buffer;
      switch (kind) {
        case "random bytes":
          bytes = rng.bytes(1 + rng.int(2000));
          break;
        case "random body":
          bytes = httpRequest("POST", "/api/broadcast", json, rng.bytes(rng.int(4000)));
          break;
        case "random JSON":
          bytes = httpRequest(
            "POST",
            rng.pick(["/api/broadcast", "/api/broadcast/batch"]),
            json,
            JSON.stringify(rng.json(5)) ?? "null",
          );
          break;
        case "mutated broadcast":
          bytes = httpRequest("POST", "/api/broadcast", json, JSON.stringify(mutated()));
          break;
        case "mutated batch":
          bytes = httpRequest(
            "POST",
            "/api/broadcast/batch",
            json,
            JSON.stringify({
              broadcasts: Array.from({ length: 1 + rng.int(4) }, () =>
                rng.next() < 0.5 ? mutated() : validBroadcast(),
              ),
            }),
          );
          break;
        case "deep nesting": {
          const depth = rng.pick([33, 1000, 10_000, 50_000]);
          const data = rng.next() < 0.5 ? nested(depth, '{"a":', "}") : nested(depth, "[", "]");
          bytes = httpRequest(
            "POST",
            "/api/broadcast",
            json,
            `{"event":"notification","to":"user","user_id":1,"data":{"d":${data}}}`,
          );
          break;
        }
        case "16 KB token":
          bytes = httpRequest(
            rng.pick(["GET", "POST"]),
            rng.pick(["/api/presence/users/1", "/socket.io/?EIO=4&transport=polling", "/metrics"]),
            [["Authorization", `Bearer ${rng.bytes(12_288).toString("base64")}`]],
          );
          break;
        case "64 KB query":
          bytes = httpRequest(
            "GET",
            `${rng.pick(["/health", "/socket.io/", "/api/presence/users"])}?EIO=4&transport=polling&q=${"a".repeat(65_536)}`,
            key,
          );
          break;
        case "1000 headers":
          bytes = httpRequest(
            "GET",
            rng.pick(["/health", "/api/presence/users/1", "/socket.io/?EIO=4&transport=polling"]),
            [...key, ...Array.from({ length: 1000 }, (_, h): [string, string] => [`X-H${h}`, "v"])],
          );
          break;
        case "random route":
          bytes = httpRequest(
            rng.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"]),
            rng.pick([
              "/",
              "/api",
              "/api/%ZZ",
              "/api/users/%00/disconnect",
              "/api/threads/../../etc/viewers",
              "/socket.io/?EIO=9",
              "/socket.io/?sid=nope&EIO=4&transport=polling",
            ]) +
              "?" +
              encodeURIComponent(rng.text()),
            rng.next() < 0.5 ? key : [],
          );
          break;
        case "short body":
          // Declares more than it sends: cut at HTTP_REQUEST_TIMEOUT_MS.
          bytes = Buffer.concat([httpRequest("POST", "/api/broadcast", json, "x".repeat(100)).subarray(0, -50)]);
          break;
      }
      cases.push({ kind, bytes, transportLevel: kind === "random bytes" });
    }

    const answers: Array<{ kind: string; exchange: RawExchange }> = [];
    let cursor = 0;
    const worker = async (): Promise<void> => {
      while (cursor < cases.length) {
        const one = cases[cursor++];
        answers.push({ kind: one.kind, exchange: await rawExchange(port, one.bytes) });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    // Slow headers: one header line every 100 ms, never finished (bounded at 100 lines).
    const slow = await new Promise<{ closedAfterMs: number; text: string }>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      const begun = Date.now();
      let text = "";
      let lines = 0;
      socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      const drip = setInterval(() => (lines++ < 100 ? socket.write(`X-Slow-${lines}: 1\r\n`) : socket.destroy()), 100);
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.on("error", () => undefined);
      socket.on("close", () => {
        clearInterval(drip);
        resolve({ closedAfterMs: Date.now() - begun, text });
      });
    });
    expect(slow.text).toMatch(/^HTTP\/1\.1 408/);
    expect(slow.closedAfterMs).toBeLessThan(4500);

    // --- Socket.IO ---
    const handshakeOutcomes: string[] = [];
    for (let i = 0; i < BAD_HANDSHAKES; i++) {
      const auth = rng.pick([
        { token: rng.bytes(12_288).toString("base64") },
        { token: `${tokenFor(1).slice(0, -4)}AAAA` },
        { token: rng.json(3) },
        { headers: { Authorization: `Bearer ${rng.text()}` } },
        { nested: JSON.parse(nested(500, '{"a":', "}")) as unknown },
        { since: rng.json(4), token: rng.text() },
      ]);
      const socket = client(node.url, {
        transports: [rng.pick(["websocket", "polling"])],
        auth: auth as Record<string, unknown>,
      });
      handshakeOutcomes.push(
        await new Promise<string>((resolve) => {
          socket.once("connect", () => resolve("connected"));
          socket.once("connect_error", (error: Error & { data?: { code?: string } }) =>
            resolve(error.data?.code ?? error.message),
          );
        }),
      );
      socket.disconnect();
    }
    expect(handshakeOutcomes.every((o) => ["token_missing", "token_invalid"].includes(o))).toBe(true);

    const EVENTS = ["subscribe", "unsubscribe", "presence:watch", "thread:viewers", "auth:refresh"];
    let socket: Socket = await connected(node.url, { auth: { token: tokenFor(2) } });
    const acks: unknown[] = [];
    for (let i = 0; i < SOCKET_EMITS; i++) {
      if (!socket.connected) socket = await connected(node.url, { auth: { token: tokenFor(2) } });
      const payload = rng.pick([
        () => rng.json(4),
        // (Deeper than this, the client's own encoder overflows its stack: the raw frames below go to 10 000.)
        () => JSON.parse(nested(500, '{"a":', "}")) as unknown,
        () => rng.bytes(rng.int(3000)),
        () => ({ thread_id: rng.json(1), channel: rng.text(), since: rng.json(1) }),
        () => ({ user_ids: Array.from({ length: rng.int(1500) }, () => rng.json(0)) }),
        () => ({ token: rng.bytes(16_384).toString("base64") }),
        () => "x".repeat(200_000),
      ])();
      if (rng.next() < 0.8) {
        const answer = await socket
          .timeout(5000)
          .emitWithAck(rng.pick(EVENTS), payload)
          .catch((error: Error) => ({ timeout: error.message }));
        acks.push(answer);
      } else socket.emit(rng.text() || "x", payload);
    }
    // Every event either was answered {ok,...} or its socket was cut for an oversized message.
    for (const ack of acks) {
      expect(ack).toEqual(
        expect.objectContaining(
          typeof ack === "object" && ack && "ok" in ack ? { ok: expect.any(Boolean) } : { timeout: expect.any(String) },
        ),
      );
    }
    expect(
      acks.filter((a) => (a as { ok?: boolean }).ok === false && (a as { error?: string }).error === "internal"),
    ).toEqual([]);

    // Raw Engine.IO WebSockets: random frames, and Socket.IO packets no client library would encode
    // (10 000-deep arguments), half of them after a proper CONNECT.
    const rawPackets = () =>
      rng.pick([
        () => rng.bytes(rng.int(500)),
        () => rng.text(),
        () => `42${JSON.stringify([rng.pick(EVENTS), rng.json(3)])}`,
        () => `421["${rng.pick(EVENTS)}",${nested(10_000, '{"a":', "}")}]`,
        () => `42["subscribe",${nested(10_000, "[", "]")}]`,
        () => `4${rng.int(10)}${rng.text()}`,
      ])();
    for (let i = 0; i < RAW_WEBSOCKETS; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
      await new Promise<void>((resolve) => {
        ws.on("error", () => resolve());
        ws.on("close", () => resolve());
        ws.on("open", () => {
          if (i % 2 === 0) ws.send(`40${JSON.stringify({ token: tokenFor(3) })}`);
          for (let f = 0; f < 5; f++) ws.send(rawPackets());
          // The last frame is a ping: its pong says every frame before it was read.
          ws.send("2");
        });
        ws.on("message", (data: Buffer) => {
          if (data.toString() === "3") ws.close();
        });
      });
    }

    // --- What it must show ---
    const health = await fetch(`${node.url}/health`);
    expect(health.status).toBe(200);
    expect(watcher.connected).toBe(true);
    expect(Date.now() - startedAt).toBeLessThan(110_000);

    const byStatus = new Map<string, number>();
    for (const { kind, exchange } of answers) {
      const label = `${kind}: ${exchange.status ?? "closed"}`;
      byStatus.set(label, (byStatus.get(label) ?? 0) + 1);
      if (exchange.status === undefined) expect(kind).toBe("random bytes");
      else
        expect(
          exchange.status >= 200 && exchange.status < 500 && (exchange.status < 300 || exchange.status >= 400),
        ).toBe(true);
      expect(exchange.text).not.toMatch(STACK_TRACE);
      expect(exchange.text).not.toContain(JWT_SECRET);
      expect(exchange.text).not.toContain(API_KEY);
    }
    // The limits answered, not something further in.
    const statusesOf = (kind: string) => new Set(answers.filter((a) => a.kind === kind).map((a) => a.exchange.status));
    // (50 000 levels are over MAX_PAYLOAD_BYTES before they are too deep.)
    expect([...statusesOf("deep nesting")].every((s) => s === 422 || s === 413)).toBe(true);
    expect([...statusesOf("64 KB query")].every((s) => s === 431)).toBe(true);
    expect([...statusesOf("short body")].every((s) => s === 408 || s === undefined)).toBe(true);

    for (const line of node.logs) {
      expect(line).not.toMatch(/"stack"|"level":"error"/);
      expect(line).not.toContain(JWT_SECRET);
      expect(line).not.toContain(API_KEY);
    }

    // Nothing invalid was delivered: only what the API accepted, as valid events.
    const acceptedIds = new Set<string>();
    for (const { exchange } of answers) {
      const text = exchange.text.slice(exchange.text.indexOf("\r\n\r\n") + 4);
      if (exchange.status !== 200 || !text.startsWith('{"success":true')) continue;
      const body = JSON.parse(text) as {
        id?: string;
        results?: Array<{ id: string }>;
      };
      if (body.id) acceptedIds.add(body.id);
      for (const result of body.results ?? []) acceptedIds.add(result.id);
    }
    await until(() => delivered.every((event) => event.meta !== undefined), 1000, "metas");
    expect(delivered.length).toBeGreaterThan(0);
    for (const event of delivered) {
      if (event.event === "user_online" || event.event === "user_offline") continue;
      expect(EVENT_NAME_PATTERN.test(event.event)).toBe(true);
      expect(acceptedIds.has(event.meta!.id)).toBe(true);
      expect(typeof event.data === "object" && event.data !== null && !Array.isArray(event.data)).toBe(true);
      expect(JSON.stringify(event.data).length).toBeLessThan(102_400);
    }
    process.stdout.write(
      `fuzz seed ${SEED}: ${answers.length} HTTP cases in ${Date.now() - startedAt} ms, ${acceptedIds.size} accepted, ${delivered.length} delivered to the watcher\n` +
        [...byStatus]
          .sort()
          .map(([label, count]) => `  ${label} ×${count}`)
          .join("\n") +
        "\n",
    );
  });
});
