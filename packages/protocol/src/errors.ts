/**
 * Stable error codes. HTTP answers carry them as `{"success":false,"error":code}`,
 * socket acks as `{ok:false,error:code}`, connect errors as `err.data.code`.
 */
export const HTTP_ERRORS = {
  unauthorized: 401,
  invalid_json: 400,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Codes of `{ok:false,error}` acks to client events. */
export type AckErrorCode =
  "invalid" | "forbidden" | "subscription_limit" | "rate_limited" | "auth_unavailable" | "internal";

/**
 * Codes in `connect_error.data.code`. The message is "unauthorized" for the token codes, and the
 * code itself for the others.
 */
export type ConnectErrorCode = "token_missing" | "token_invalid" | "token_expired" | "too_many_connections";

/**
 * Refusals of a Socket.IO HTTP request (handshake, poll, WebSocket upgrade) before Engine.IO sees it,
 * as `{"code":"<code>"}` with this status. A stock client takes them as a transport error and retries
 * with backoff; nginx tries the next node on a 503.
 */
export const HANDSHAKE_REFUSALS = {
  /** The node is shutting down. */
  draining: 503,
  /** The node holds `MAX_CONNECTIONS` connections. */
  node_full: 503,
  /** `Origin` is not in `CORS_ORIGINS`. */
  origin_not_allowed: 403,
  /** Past the per-IP handshake rate (`HANDSHAKE_RATE_LIMIT`); with `Retry-After`. */
  rate_limited: 429,
} as const;

export type HandshakeRefusalCode = keyof typeof HANDSHAKE_REFUSALS;

/** One problem found in a request, as listed in a 422 answer. */
export interface ValidationDetail {
  path: string;
  message: string;
}
