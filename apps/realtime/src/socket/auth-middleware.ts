import type { ConnectErrorCode, HandshakeAuth } from "@mechamap/protocol";
import type { TokenVerifier } from "../auth/jwt-token-verifier";
import type { RealtimeSocket } from "./types";

export interface SocketAuthOptions {
  verifier: TokenVerifier;
  allowGuests: boolean;
  allowQueryToken: boolean;
  onFailure: (code: ConnectErrorCode) => void;
}

type ConnectError = Error & { data?: { code: string } };

const refuse = (code: string): ConnectError =>
  Object.assign(new Error(code === "unavailable" ? code : "unauthorized"), { data: { code } });

/**
 * Authenticates the handshake: the JWT from `auth.token`, `auth.headers.Authorization`
 * (Laravel Echo), the `Authorization` header, or `?token=` when allowed. A token that is present
 * but invalid is refused, never downgraded to a guest.
 */
export function createSocketAuthMiddleware(options: SocketAuthOptions) {
  return (socket: RealtimeSocket, next: (error?: Error) => void): void => {
    const token = findToken(socket, options.allowQueryToken);
    if (token === undefined) {
      if (!options.allowGuests) return fail("token_missing");
      socket.data.userId = null;
      socket.data.expiresAt = null;
      return next();
    }
    const verdict = options.verifier.verify(token);
    if (!verdict.ok) return fail(verdict.code);
    socket.data.userId = verdict.token.userId;
    socket.data.expiresAt = verdict.token.expiresAt;
    next();

    function fail(code: ConnectErrorCode): void {
      options.onFailure(code);
      next(refuse(code));
    }
  };
}

function findToken(socket: RealtimeSocket, allowQuery: boolean): string | undefined {
  const auth = (socket.handshake.auth ?? {}) as HandshakeAuth;
  const candidates: unknown[] = [
    auth.token,
    auth.headers?.Authorization,
    socket.handshake.headers.authorization,
    allowQuery ? socket.handshake.query.token : undefined,
  ];
  for (const candidate of candidates) {
    if (typeof candidate !== "string" || candidate.trim() === "") continue;
    return candidate.replace(/^Bearer\s+/i, "").trim();
  }
  return undefined;
}
