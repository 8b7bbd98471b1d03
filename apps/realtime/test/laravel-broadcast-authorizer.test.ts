import { createLaravelBroadcastAuthorizer } from "../src/auth/laravel-broadcast-authorizer";
import { startLaravelStub, StubAnswer } from "./helpers/laravel-stub";

/** Laravel's `/broadcasting/auth` as the node asks it for Echo clients, against a real HTTP server. */
const clock = { time: 1_700_000_000_000, now: () => clock.time };

async function authorizerFor(answer: StubAnswer, timeoutMs = 1000) {
  const laravel = await startLaravelStub(answer);
  const authorizer = createLaravelBroadcastAuthorizer({ laravelApiUrl: laravel.url, clock, timeoutMs });
  return { authorizer, calls: laravel.calls };
}

const ask = (channel: string, headers: Record<string, string> = {}) => ({
  userId: "7",
  channel,
  socketId: "AAAAAAAAAAAAAAAAAAAA",
  headers,
});

describe("Laravel broadcast authorizer", () => {
  it("reads channel_data sent as a JSON string, the way Pusher-style broadcasters answer", async () => {
    const member = { user_id: "7", user_info: { name: "Seven" } };
    const { authorizer } = await authorizerFor(() => ({
      status: 200,
      body: { auth: "key:signature", channel_data: JSON.stringify(member) },
    }));
    expect(await authorizer.authorize(ask("presence-chat.1"))).toEqual({ status: 200, member });
  });

  it("answers 502 for a presence channel admitted without a usable member, and does not cache it", async () => {
    const { authorizer, calls } = await authorizerFor(() => ({ status: 200, body: true }));
    expect(await authorizer.authorize(ask("presence-chat.1"))).toEqual({ status: 502 });
    expect(await authorizer.authorize(ask("presence-chat.1"))).toEqual({ status: 502 });
    expect(await authorizer.authorize(ask("private-chat.1"))).toEqual({ status: 200 });
    expect(calls).toHaveLength(3);
  });

  it("caches Laravel's verdicts for a minute per user and channel, but not its 5xx", async () => {
    let status = 500;
    const { authorizer, calls } = await authorizerFor(() => ({ status, body: {} }));
    expect(await authorizer.authorize(ask("private-a.1"))).toEqual({ status: 500 });
    status = 403;
    expect(await authorizer.authorize(ask("private-a.1"))).toEqual({ status: 403 });
    status = 200;
    expect(await authorizer.authorize(ask("private-a.1"))).toEqual({ status: 403 });
    expect(calls).toHaveLength(2);
    clock.time += 60_001;
    expect(await authorizer.authorize(ask("private-a.1"))).toEqual({ status: 200 });
    expect(calls).toHaveLength(3);
  });

  it("answers 503 when Laravel does not answer in time", async () => {
    const { authorizer } = await authorizerFor(() => ({ status: 200, body: true, delayMs: 500 }), 50);
    expect(await authorizer.authorize(ask("private-slow.1"))).toEqual({ status: 503 });
  });

  it("forwards the client's headers but none that describe the request itself, nor malformed ones", async () => {
    const { authorizer, calls } = await authorizerFor(() => ({ status: 200, body: true }));
    await authorizer.authorize(
      ask("private-h.1", {
        Authorization: "Bearer t",
        "X-CSRF-TOKEN": "c",
        Cookie: "s=1",
        Host: "evil.example",
        "Content-Length": "1",
        "Content-Type": "text/plain",
        "X-Bad": "a\r\nInjected: 1",
        "bad name": "x",
      }),
    );
    expect(calls[0].body).toEqual({ channel_name: "private-h.1", socket_id: "AAAAAAAAAAAAAAAAAAAA" });
    const headers = calls[0].headers;
    expect(headers).toMatchObject({
      authorization: "Bearer t",
      "x-csrf-token": "c",
      cookie: "s=1",
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(headers.host).not.toBe("evil.example");
    expect(headers["x-bad"]).toBeUndefined();
    expect(headers.injected).toBeUndefined();
  });
});
