import type { IncomingMessage } from "node:http";
import type { RateLimitVerdict, RateLimiter } from "../core/ports";
import { clientIp, isLoopback } from "./client-ip";
import type { RealtimeSocket } from "./types";

/**
 * The shared counters of a limit are in Redis in cluster mode. When Redis does not answer within
 * this, the handshake is let through: a refusal from the socket middleware is final for a stock
 * client, and a Redis outage must not lock every user out (sockets outlive it; SPEC section 10).
 */
const SHARED_STATE_WAIT_MS = 1000;

/** How long a user's place is held for a socket whose handshake has not completed yet. */
const PLACE_HOLD_MS = 10_000;

export interface HandshakeRateOptions {
  limiter: RateLimiter;
  perSecond: number;
  proxyHops: number;
  /** False while the shared state is known to be down: then nothing is asked (fail open at once). */
  sharedStateUp: () => boolean;
}

/** New Socket.IO sessions per client IP per second, cluster-wide; for the handshake gate. */
export function handshakeRate(options: HandshakeRateOptions) {
  const { limiter, perSecond, proxyHops, sharedStateUp } = options;
  return (req: IncomingMessage): Promise<RateLimitVerdict> | undefined => {
    if (perSecond === 0) return undefined;
    const ip = clientIp(req, proxyHops);
    if (isLoopback(ip) || !sharedStateUp()) return undefined;
    return orElse(limiter.hit(`hs:${ip}`, perSecond), { allowed: true, retryAfterS: 0 });
  };
}

export interface UserConnectionCapOptions {
  limit: number;
  /** Holds a place for one more socket of the user, unless they have `limit` (PresenceService.admit). */
  admit: (userId: string, socketId: string, limit: number, holdMs: number) => Promise<boolean>;
  sharedStateUp: () => boolean;
  onRefusal: () => void;
}

type ConnectError = Error & { data?: { code: string } };

/**
 * Socket.IO middleware, after authentication: a user holds at most `limit` sockets across the
 * cluster; past it `connect_error` with `too_many_connections` (a stock client does not retry it).
 */
export function userConnectionCap(options: UserConnectionCapOptions) {
  return (socket: RealtimeSocket, next: (error?: Error) => void): void => {
    const { userId } = socket.data;
    if (options.limit === 0 || userId === null || !options.sharedStateUp()) return next();
    void orElse(options.admit(userId, socket.id, options.limit, PLACE_HOLD_MS), true).then((admitted) => {
      if (admitted) return next();
      options.onRefusal();
      const refusal: ConnectError = Object.assign(new Error("too_many_connections"), {
        data: { code: "too_many_connections" },
      });
      next(refusal);
    });
  };
}

/** `promise`'s value, or `fallback` when it fails or takes longer than SHARED_STATE_WAIT_MS. */
function orElse<T>(promise: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), SHARED_STATE_WAIT_MS);
  });
  return Promise.race([promise.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}
