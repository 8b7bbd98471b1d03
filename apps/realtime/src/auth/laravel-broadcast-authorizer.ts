import { echoChannelKind, EchoMember } from "@mechamap/protocol";
import type { BroadcastAuthAnswer, BroadcastAuthorizer, Clock } from "../core/ports";

export interface LaravelBroadcastAuthorizerOptions {
  laravelApiUrl: string;
  clock: Clock;
  timeoutMs?: number;
  cacheMs?: number;
  maxCacheEntries?: number;
}

/** Headers a client may not have forwarded: they describe our request, not the user. */
const NOT_FORWARDED = new Set([
  "host",
  "content-length",
  "content-type",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const MAX_FORWARDED = 20;
const MAX_HEADER_BYTES = 8192;
/** Laravel timed out, could not be reached or answered what no broadcaster answers. */
const UNAVAILABLE = 503;
const BAD_ANSWER = 502;

/**
 * CHANNEL_AUTH=laravel for Echo's private-/presence- channels: asks Laravel's own
 * `POST {LARAVEL_API_URL}/broadcasting/auth` (`Broadcast::routes()`), as laravel-echo-server did: form
 * body `channel_name` and `socket_id`, with the client's `auth.headers` (CSRF token, bearer token) and
 * its handshake Cookie, so Laravel sees the user's own session. TLS is verified (fetch's default).
 * 200 admits; for presence channels `channel_data` (object, or JSON string as Pusher-style
 * broadcasters send it) names the member. Definite answers are cached per user and channel.
 */
export function createLaravelBroadcastAuthorizer(options: LaravelBroadcastAuthorizerOptions): BroadcastAuthorizer {
  const { clock, timeoutMs = 3000, cacheMs = 60_000, maxCacheEntries = 50_000 } = options;
  const url = `${options.laravelApiUrl}/broadcasting/auth`;
  const cache = new Map<string, { answer: BroadcastAuthAnswer; until: number }>();

  async function ask(channel: string, socketId: string, headers: Record<string, string>): Promise<BroadcastAuthAnswer> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        redirect: "manual",
        headers: {
          ...forwardable(headers),
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "x-requested-with": "XMLHttpRequest",
        },
        body: new URLSearchParams({ channel_name: channel, socket_id: socketId }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      return { status: UNAVAILABLE };
    }
    const text = await response.text().catch(() => "");
    if (response.status !== 200) return { status: response.status };
    if (echoChannelKind(channel) !== "presence") return { status: 200 };
    const member = memberOf(text);
    return member ? { status: 200, member } : { status: BAD_ANSWER };
  }

  return {
    async authorize({ userId, channel, socketId, headers }) {
      const key = `${userId ?? ""}\n${channel}`;
      const cached = cache.get(key);
      if (cached && cached.until > clock.now()) return cached.answer;
      const answer = await ask(channel, socketId, headers);
      // Laravel's verdicts are kept; its outages and unusable answers are asked again next time.
      if (answer.status < 500) {
        cache.delete(key);
        cache.set(key, { answer, until: clock.now() + cacheMs });
        if (cache.size > maxCacheEntries) cache.delete(cache.keys().next().value as string);
      }
      return answer;
    },
  };
}

/** The client's headers that may go on to Laravel: well-formed, bounded, none of the request's own. */
function forwardable(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (count >= MAX_FORWARDED) break;
    if (!HEADER_NAME.test(name) || NOT_FORWARDED.has(name.toLowerCase())) continue;
    if (typeof value !== "string" || value.length > MAX_HEADER_BYTES || /[\r\n\0]/.test(value)) continue;
    out[name] = value;
    count++;
  }
  return out;
}

/** `{"channel_data": {"user_id", "user_info"}}`, or `channel_data` as a JSON string (Pusher's shape). */
function memberOf(text: string): EchoMember | undefined {
  try {
    const body = JSON.parse(text) as { channel_data?: unknown };
    const data = typeof body.channel_data === "string" ? (JSON.parse(body.channel_data) as unknown) : body.channel_data;
    if (typeof data !== "object" || data === null) return undefined;
    const { user_id: userId, user_info: userInfo } = data as { user_id?: unknown; user_info?: unknown };
    const valid =
      (typeof userId === "number" && Number.isSafeInteger(userId)) ||
      (typeof userId === "string" && /^[^|\s]{1,64}$/.test(userId));
    return valid ? { user_id: userId as string | number, user_info: userInfo ?? null } : undefined;
  } catch {
    return undefined;
  }
}
