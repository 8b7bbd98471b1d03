import { createOriginAllowlist } from "../src/auth/origin-allowlist";
import { clientIp, isLoopback } from "../src/socket/client-ip";
import { connectError, connected, startNode, tokenFor } from "./helpers/node";
import { rawHandshake } from "./helpers/raw-handshake";

/** A production-mode node: the allowlist is in force. */
const production = () =>
  startNode({ NODE_ENV: "production", CORS_ORIGINS: "http://localhost,https://*.forum.example" });

describe("the Origin allowlist of Socket.IO handshakes (CORS_ORIGINS)", () => {
  it.each(["websocket", "polling"] as const)("refuses a foreign Origin over %s with 403", async (transport) => {
    const node = await production();
    const answer = await rawHandshake(node.url, transport, { Origin: "http://evil.example" });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ code: "origin_not_allowed" });

    const error = await connectError(node.url, {
      transports: [transport],
      auth: { token: tokenFor(1) },
      extraHeaders: { Origin: "http://evil.example" },
    });
    expect(error.message).toMatch(/websocket error|xhr poll error/);
    expect(node.app.io.of("/").sockets.size).toBe(0);
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/realtime_handshakes_refused_total\{reason="origin_not_allowed"\} 2/);
  });

  it.each(["websocket", "polling"] as const)(
    "accepts an allowed Origin, a wildcard subdomain and no Origin over %s",
    async (transport) => {
      const node = await production();
      for (const origin of ["http://localhost", "https://a.forum.example", "https://a.b.forum.example", undefined]) {
        const socket = await connected(node.url, {
          transports: [transport],
          auth: { token: tokenFor(1) },
          ...(origin ? { extraHeaders: { Origin: origin } } : {}),
        });
        expect(socket.connected).toBe(true);
        socket.disconnect();
      }
    },
  );

  it("judges a handshake without Origin by its token alone", async () => {
    const node = await production();
    const error = await connectError(node.url, { auth: { token: "not-a-jwt" } });
    expect(error.data).toEqual({ code: "token_invalid" });
  });

  it("lets a foreign Origin read nothing from the API either", async () => {
    const node = await production();
    const foreign = await node.api("/health", { headers: { Origin: "http://evil.example" } });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await node.api("/health", { headers: { Origin: "https://x.forum.example" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://x.forum.example");
  });

  it("warns at start when production allows any origin", async () => {
    const node = await startNode({ NODE_ENV: "production", CORS_ORIGINS: "*" });
    expect(node.logs.filter((line) => line.includes("CORS_ORIGINS=* in production"))).toHaveLength(1);
    expect((await production()).logs.join("")).not.toContain("CORS_ORIGINS=*");
  });

  it("allows any origin with * (the development default)", async () => {
    const node = await startNode();
    const socket = await connected(node.url, {
      auth: { token: tokenFor(1) },
      extraHeaders: { Origin: "http://anything.example" },
    });
    expect(socket.connected).toBe(true);
  });
});

describe("createOriginAllowlist", () => {
  const allowed = createOriginAllowlist(["http://localhost", "https://*.forum.example", "https://forum.example:8443"]);

  it.each([
    ["http://localhost", true],
    ["HTTP://LOCALHOST", true],
    ["https://www.forum.example", true],
    ["https://a.b.forum.example", true],
    ["https://forum.example:8443", true],
    ["https://forum.example", false],
    ["https://evilforum.example", false],
    ["https://forum.example.evil.example", false],
    ["http://www.forum.example", false],
    ["https://www.forum.example:8443", false],
    ["http://localhost:3000", false],
    ["null", false],
    ["", false],
  ])("%s → %s", (origin, expected) => {
    expect(allowed(origin)).toBe(expected);
  });
});

describe("clientIp (whose handshake rate it is)", () => {
  const req = (header: string | undefined, peer = "::ffff:10.0.0.5") =>
    ({ headers: header === undefined ? {} : { "x-forwarded-for": header }, socket: { remoteAddress: peer } }) as never;

  it.each([
    [undefined, 1, "10.0.0.5"],
    ["203.0.113.7", 0, "10.0.0.5"],
    ["203.0.113.7", 1, "203.0.113.7"],
    ["6.6.6.6, 203.0.113.7", 1, "203.0.113.7"],
    ["6.6.6.6, 203.0.113.7, 10.1.1.1", 2, "203.0.113.7"],
    ["203.0.113.7", 3, "203.0.113.7"],
    [" , ", 1, "10.0.0.5"],
    ["::ffff:198.51.100.2", 1, "198.51.100.2"],
  ])("X-Forwarded-For %p with %i proxies → %s", (header, hops, expected) => {
    expect(clientIp(req(header), hops)).toBe(expected);
  });

  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "127.0.0.2", "::1"].every(isLoopback)).toBe(true);
    expect(["10.0.0.1", "::2", "1.27.0.0"].some(isLoopback)).toBe(false);
  });
});
