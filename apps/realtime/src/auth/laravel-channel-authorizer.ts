import type { ChannelAuthorizer, ChannelVerdict, Clock } from "../core/ports";

export interface LaravelChannelAuthorizerOptions {
  laravelApiUrl: string;
  /** The key to send, read at each call: `LARAVEL_API_KEY`, replaced on SIGHUP. */
  apiKey: () => string;
  clock: Clock;
  timeoutMs?: number;
  cacheMs?: number;
  maxCacheEntries?: number;
}

/**
 * CHANNEL_AUTH=laravel: asks `POST {LARAVEL_API_URL}/api/realtime/authorize` and caches definite
 * answers for a minute. A timeout, a network error or a 5xx denies with "unavailable" (fail closed)
 * and is not cached, so the next attempt asks again.
 */
export function createLaravelChannelAuthorizer(options: LaravelChannelAuthorizerOptions): ChannelAuthorizer {
  const { clock, timeoutMs = 3000, cacheMs = 60_000, maxCacheEntries = 50_000 } = options;
  const url = `${options.laravelApiUrl}/api/realtime/authorize`;
  const cache = new Map<string, { verdict: ChannelVerdict; until: number }>();

  async function ask(userId: string | null, channel: string): Promise<ChannelVerdict> {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "x-websocket-api-key": options.apiKey(),
        },
        body: JSON.stringify({ user_id: userId, channel }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status >= 500) return "unavailable";
      const body = (await response.json().catch(() => null)) as { allowed?: unknown } | null;
      return response.status === 200 && body?.allowed === true ? "allowed" : "forbidden";
    } catch {
      return "unavailable";
    }
  }

  return {
    async authorize(userId, channel) {
      const key = `${userId ?? ""}\n${channel}`;
      const cached = cache.get(key);
      if (cached && cached.until > clock.now()) return cached.verdict;
      const verdict = await ask(userId, channel);
      if (verdict !== "unavailable") {
        cache.delete(key);
        cache.set(key, { verdict, until: clock.now() + cacheMs });
        if (cache.size > maxCacheEntries) cache.delete(cache.keys().next().value as string);
      }
      return verdict;
    },
  };
}
