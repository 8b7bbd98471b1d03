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

/** Codes in `connect_error.data.code` (the message is always "unauthorized"). */
export type ConnectErrorCode = "token_missing" | "token_invalid" | "token_expired";

/** One problem found in a request, as listed in a 422 answer. */
export interface ValidationDetail {
  path: string;
  message: string;
}
