export interface TokenClaims {
  /** The user id (`sub`), as a string. */
  sub?: string;
  /** Expiry, in milliseconds since the epoch. */
  expiresAt?: number;
}

/**
 * Reads `sub` and `exp` of a JWT without verifying it (the server does): the client needs them to
 * know its own channel and when to renew. Anything unreadable gives empty claims.
 */
export function readClaims(token: string): TokenClaims {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(
      payload
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(payload.length / 4) * 4, "="),
    );
    const claims = JSON.parse(json) as { sub?: unknown; exp?: unknown };
    return {
      sub: typeof claims.sub === "string" || typeof claims.sub === "number" ? String(claims.sub) : undefined,
      expiresAt: typeof claims.exp === "number" ? claims.exp * 1000 : undefined,
    };
  } catch {
    return {};
  }
}
