import { HTTP_ERRORS, HttpErrorCode, ValidationDetail } from "@mechamap/protocol";

/** The one error class of the core; each edge translates it once (HTTP JSON, socket ack). */
export class RealtimeError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    message: string = code,
    readonly details?: ValidationDetail[],
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = "RealtimeError";
  }

  get status(): number {
    return HTTP_ERRORS[this.code];
  }
}

export const validationFailed = (details: ValidationDetail[]): RealtimeError =>
  new RealtimeError("validation_failed", "validation failed", details);

/** Shared state that cannot answer (Redis away) makes the request unavailable, not an internal error. */
export async function unavailableOnFailure<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof RealtimeError) throw error;
    throw new RealtimeError("unavailable", "shared state is unavailable; retry");
  }
}
