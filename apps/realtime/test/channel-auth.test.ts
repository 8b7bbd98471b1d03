import { API_KEY, connected, request, startNode, tokenFor } from "./helpers/node";
import { startLaravelStub, StubCall } from "./helpers/laravel-stub";

const authorizations = (calls: StubCall[]) => calls.filter((call) => call.path === "/api/realtime/authorize");

describe("CHANNEL_AUTH=laravel", () => {
  it("asks Laravel with the API key, admits on allowed:true and caches the answer", async () => {
    const laravel = await startLaravelStub((call) => ({
      status: 200,
      body: { allowed: call.body.channel === "thread.7" },
    }));
    const node = await startNode({ CHANNEL_AUTH: "laravel", LARAVEL_API_URL: laravel.url });
    const socket = await connected(node.url, { auth: { token: tokenFor(3) } });
    expect(await request(socket, "subscribe", { thread_id: 7 })).toMatchObject({ ok: true });
    expect(await request(socket, "subscribe", { thread_id: 8 })).toEqual({ ok: false, error: "forbidden" });
    expect(await request(socket, "subscribe", { thread_id: 7 })).toMatchObject({ ok: true });
    expect(await request(socket, "subscribe", { channel: "user.3" })).toMatchObject({ ok: true });
    expect(authorizations(laravel.calls).map((c) => [c.path, c.body])).toEqual([
      ["/api/realtime/authorize", { user_id: "3", channel: "thread.7" }],
      ["/api/realtime/authorize", { user_id: "3", channel: "thread.8" }],
    ]);
    expect(authorizations(laravel.calls)[0].headers["x-websocket-api-key"]).toBe(API_KEY);
  });

  it("fails closed with auth_unavailable on a 5xx, and asks again next time", async () => {
    let status = 500;
    const laravel = await startLaravelStub(() => ({ status, body: { allowed: true } }));
    const node = await startNode({ CHANNEL_AUTH: "laravel", LARAVEL_API_URL: laravel.url });
    const socket = await connected(node.url, { auth: { token: tokenFor(3) } });
    expect(await request(socket, "subscribe", { thread_id: 7 })).toEqual({ ok: false, error: "auth_unavailable" });
    status = 200;
    expect(await request(socket, "subscribe", { thread_id: 7 })).toMatchObject({ ok: true });
    expect(authorizations(laravel.calls)).toHaveLength(2);
  });

  it("fails closed when Laravel does not answer in time", async () => {
    const laravel = await startLaravelStub(() => ({ status: 200, body: { allowed: true }, delayMs: 4000 }));
    const node = await startNode({ CHANNEL_AUTH: "laravel", LARAVEL_API_URL: laravel.url });
    const socket = await connected(node.url, { auth: { token: tokenFor(3) } });
    expect(await request(socket, "subscribe", { thread_id: 7 })).toEqual({ ok: false, error: "auth_unavailable" });
  });

  it("refuses to start without LARAVEL_API_URL", async () => {
    await expect(startNode({ CHANNEL_AUTH: "laravel" })).rejects.toThrow(
      "LARAVEL_API_URL is required when CHANNEL_AUTH=laravel",
    );
  });
});
