import { connect } from "node:net";
import { setTimeout as wait } from "node:timers/promises";
import { API_KEY, connected, record, startNode, tokenFor, until } from "./helpers/node";
import { httpRequest, rawExchange } from "./helpers/raw-http";

/** The HTTP server's own limits (http/create-bounded-server.ts), with short timeouts. */
const edge = () =>
  startNode({ HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_REQUEST_TIMEOUT_MS: "1500", MAX_HEADER_BYTES: "8192" });
const portOf = (url: string): number => Number(new URL(url).port);

describe("the bounded HTTP edge", () => {
  it("cuts a client that sends its headers slowly with 408, within the timeout and the 1 s check", async () => {
    const node = await edge();
    const socket = connect(portOf(node.url), "127.0.0.1");
    const begun = Date.now();
    let text = "";
    let lines = 0;
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => (lines++ < 50 ? socket.write(`X-${lines}: 1\r\n`) : socket.destroy()), 100);
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    await new Promise((resolve) => socket.on("close", resolve));
    clearInterval(drip);
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    // The timeout plus Node's 1 s check, with room for a busy machine; without the limits set on
    // purpose the drip would go on for its whole 5 s (Node's default is 60 s plus a 30 s check).
    expect(Date.now() - begun).toBeLessThan(4500);
    expect(lines).toBeLessThan(50);
  });

  it("cuts a body that never finishes at HTTP_REQUEST_TIMEOUT_MS", async () => {
    const node = await edge();
    const request = httpRequest(
      "POST",
      "/api/broadcast",
      [
        ["Content-Type", "application/json"],
        ["X-WebSocket-API-Key", API_KEY],
      ],
      "{".repeat(100),
    );
    const answer = await rawExchange(portOf(node.url), request.subarray(0, -60), 10_000);
    expect(answer.status).toBe(408);
    expect(answer.elapsedMs).toBeLessThan(1500 + 1000 + 2000);
  });

  it("answers 431 past MAX_HEADER_BYTES and reads only the first MAX_HEADERS headers", async () => {
    const node = await edge();
    const big = await rawExchange(portOf(node.url), httpRequest("GET", "/health", [["X-Big", "a".repeat(9000)]]));
    expect(big.status).toBe(431);
    const many = await rawExchange(
      portOf(node.url),
      httpRequest(
        "GET",
        "/health",
        Array.from({ length: 1000 }, (_, i): [string, string] => [`X-H${i}`, "v"]),
      ),
    );
    expect(many.status).toBe(200);
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
  });

  it("does not cut a long-poll that waits longer than HTTP_REQUEST_TIMEOUT_MS for its answer", async () => {
    const node = await edge();
    const socket = await connected(node.url, { transports: ["polling"], auth: { token: tokenFor(1) } });
    const received = record(socket);
    // The poll now pending must outlive the request timeout and the server's 1 s check: time
    // passing is the point here, there is no event to await instead.
    await wait(1500 + 1000 + 200);
    expect(socket.connected).toBe(true);
    await node.api("/api/broadcast", { body: { event: "notification", to: "user", user_id: 1, data: { n: 1 } } });
    await until(() => received.some((event) => event.event === "notification"), 5000, "the broadcast by long-poll");
  });
});
