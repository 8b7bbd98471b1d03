import { createSecretKey } from "node:crypto";
import jwt from "jsonwebtoken";
import type { ConnectErrorCode } from "@mechamap/protocol";
import { systemClock, Clock } from "../core/ports";

export interface VerifiedToken {
  userId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export type TokenVerdict = { ok: true; token: VerifiedToken } | { ok: false; code: ConnectErrorCode };

export interface TokenVerifier {
  verify(token: string): TokenVerdict;
}

export interface JwtOptions {
  secret: string;
  /** The secret before a rotation (`JWT_SECRET_PREVIOUS`): verifies tokens Laravel signed before it switched. */
  previousSecret?: string;
  issuers: string[];
  audience?: string;
  /** What `exp` and `nbf` are compared with. */
  clock?: Clock;
}

const CLOCK_TOLERANCE_S = 30;
const SUBJECT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * HS256 tokens as tymon/jwt-auth issues them: the secret as raw text, `sub` the user id
 * (string or number), `exp` required, `nbf` honoured, 30 s of clock tolerance. A token whose
 * signature does not match `secret` is tried against `previousSecret`; nothing here ever signs with it.
 */
export function createJwtTokenVerifier(options: JwtOptions): TokenVerifier {
  const verifyOptions: jwt.VerifyOptions = {
    algorithms: ["HS256"],
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(options.issuers.length > 0 ? { issuer: options.issuers as [string, ...string[]] } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
  // public key on every verification, which cost ~0.6 ms per handshake in the benchmark profile.
  const keys = [options.secret, ...(options.previousSecret ? [options.previousSecret] : [])].map((secret) =>
    createSecretKey(Buffer.from(secret)),
  );
  const decode = (token: string, clockTimestamp: number): string | jwt.JwtPayload => {
    for (const [index, key] of keys.entries()) {
      try {
        return jwt.verify(token, key, { ...verifyOptions, clockTimestamp });
      } catch (error) {
        const wrongKey = error instanceof jwt.JsonWebTokenError && error.message === "invalid signature";
        if (!wrongKey || index === keys.length - 1) throw error;
      }
    }
    throw new Error("no key");
  };
  const clock = options.clock ?? systemClock;
  return {
    verify(token) {
      let payload: string | jwt.JwtPayload;
      try {
        payload = decode(token, Math.floor(clock.now() / 1000));
      } catch (error) {
        return { ok: false, code: error instanceof jwt.TokenExpiredError ? "token_expired" : "token_invalid" };
      }
      if (typeof payload !== "object" || typeof payload.exp !== "number") return { ok: false, code: "token_invalid" };
      const sub: unknown = payload.sub;
      const userId = typeof sub === "number" && Number.isSafeInteger(sub) && sub > 0 ? String(sub) : sub;
      if (typeof userId !== "string" || !SUBJECT_PATTERN.test(userId)) return { ok: false, code: "token_invalid" };
      return { ok: true, token: { userId, expiresAt: payload.exp * 1000 } };
    },
  };
}

/** A token as Laravel would issue it; used for the development example printed at start. */
export function signToken(secret: string, userId: string, ttlS: number): string {
  return jwt.sign({ sub: userId }, secret, { algorithm: "HS256", expiresIn: ttlS });
}
