/**
 * Every error the client reports carries a stable `code`: the ack's error (`forbidden`,
 * `subscription_limit`, ...), the connect error (`token_missing`, `token_invalid`, `token_expired`),
 * or the client's own `timeout` / `closed`.
 */
export class RealtimeClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly channel?: string,
  ) {
    super(message);
    this.name = "RealtimeClientError";
  }
}

/** An error from socket.io-client (an ack timeout, a disconnect) as the client reports it. */
export function asClientError(error: unknown): RealtimeClientError {
  if (error instanceof RealtimeClientError) return error;
  return new RealtimeClientError("timeout", error instanceof Error ? error.message : String(error));
}
