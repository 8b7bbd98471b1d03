import { randomUUID } from "node:crypto";
import type { BroadcastCommand } from "./broadcast-request";
import type { Broadcaster, IdempotencyStore, IdempotentResult } from "./ports";

export interface PublishResult extends IdempotentResult {
  duplicate: boolean;
}

export interface PublisherOptions {
  broadcaster: Broadcaster;
  idempotency: IdempotencyStore;
  idempotencyTtlS: number;
}

/**
 * The publish use case behind the HTTP API: an idempotent, durable broadcast.
 * A repeat of an id within the TTL is answered from the first result and not delivered again;
 * a failed publish frees its id so that the sender's retry goes through.
 */
export class Publisher {
  constructor(private readonly options: PublisherOptions) {}

  async publish(command: BroadcastCommand): Promise<PublishResult> {
    const { broadcaster, idempotency, idempotencyTtlS } = this.options;
    const key = command.id;
    if (key !== undefined) {
      const claim = await idempotency.claim(key, idempotencyTtlS);
      if (!claim.acquired) return { duplicate: true, ...(claim.previous ?? { id: key, channels: [] }) };
    }
    const id = key ?? randomUUID();
    let result: IdempotentResult;
    try {
      const metas = await broadcaster.publish(
        command.channels.map((channel) => ({ channel, event: command.event, data: command.data, id })),
      );
      result = { id, channels: metas.map((meta) => ({ channel: meta.channel, offset: meta.offset })) };
    } catch (error) {
      if (key !== undefined) await idempotency.release(key).catch(() => undefined);
      throw error;
    }
    // Delivered already: a failure to record the result must not turn into an error (and a resend).
    if (key !== undefined) await idempotency.complete(key, result, idempotencyTtlS).catch(() => undefined);
    return { duplicate: false, ...result };
  }
}
