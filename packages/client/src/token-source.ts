import { readClaims, TokenClaims } from "./jwt-claims.js";

/** Renew this long before `exp` at most, and never later than 80 % of the way to it. */
const RENEW_AHEAD_MS = 60_000;

/**
 * The client's JWT: the fixed `token`, or what `getToken()` returns. Fetches a new one when the
 * current one is missing or expired (at each handshake) and, while connected, shortly before `exp`.
 */
export class TokenSource {
  private token: string | undefined;
  private claims: TokenClaims = {};
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    fixed: string | undefined,
    private readonly getToken: (() => string | Promise<string>) | undefined,
  ) {
    if (fixed !== undefined) this.use(fixed);
  }

  get canRenew(): boolean {
    return this.getToken !== undefined;
  }

  /** The user id of the current token, if it says. */
  get userId(): string | undefined {
    return this.claims.sub;
  }

  /** A token for a handshake: the current one unless it expired and can be renewed. */
  async current(): Promise<string | undefined> {
    const expired = this.claims.expiresAt !== undefined && this.claims.expiresAt <= Date.now();
    if (this.getToken && (this.token === undefined || expired)) return this.renew();
    return this.token;
  }

  /** Asks `getToken()` for a new token and keeps it. */
  async renew(): Promise<string> {
    if (!this.getToken) throw new Error("no getToken to renew the token with");
    const token = await this.getToken();
    if (typeof token !== "string" || token === "") throw new Error("getToken() gave no token");
    this.use(token);
    return token;
  }

  /** Forgets the current token: the next handshake asks `getToken()`. */
  discard(): void {
    this.token = undefined;
    this.claims = {};
  }

  /**
   * Calls `send(newToken)` shortly before the current token's `exp`, and again for the next token,
   * until `stopRenewing()`. A renewal that yields no later `exp` stops there (no busy loop).
   */
  renewBeforeExpiry(send: (token: string) => Promise<void>, onError: (error: unknown) => void): void {
    this.stopRenewing();
    const expiresAt = this.claims.expiresAt;
    if (!this.getToken || expiresAt === undefined) return;
    const left = expiresAt - Date.now();
    if (left <= 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.renew()
          .then(async (token) => {
            await send(token);
            if ((this.claims.expiresAt ?? 0) > expiresAt) this.renewBeforeExpiry(send, onError);
          })
          .catch(onError);
      },
      left - Math.min(RENEW_AHEAD_MS, left / 5),
    );
  }

  stopRenewing(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private use(token: string): void {
    this.token = token;
    this.claims = readClaims(token);
  }
}
