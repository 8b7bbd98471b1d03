import { randomUUID } from "node:crypto";
import type { EventMeta } from "@mechamap/protocol";
import type { BroadcastCommand } from "./broadcast-request";
import type { Broadcaster, IdempotentResult } from "./ports";

export interface PublishResult extends IdempotentResult {
  duplicate: boolean;
}

export interface PublisherOptions {
  broadcaster: Broadcaster;
  idempotencyTtlS: number;
}

/**
 * The publish use case behind the HTTP API: an idempotent, durable broadcast.
 * A repeat of an id within the TTL is answered from the first result and not delivered again;
 * a failed publish leaves its id free so that the sender's retry goes through.
 *
 * The check of the id, the publish and the recording of its result are one step of the
 * Broadcaster (`publishOnce`: one Lua script, so one Redis round trip, in cluster mode). Both
 * Broadcasters implement it, rather than the memory one keeping a separate claim/complete store:
 * this way both modes run this one path, and one contract suite holds both to the same behaviour.
 */
export class Publisher {
  constructor(private readonly options: PublisherOptions) {}

  async publish(command: BroadcastCommand): Promise<PublishResult> {
    const { broadcaster, idempotencyTtlS } = this.options;
    const key = command.id;
    const id = key ?? randomUUID();
    const except = command.except;
    const drafts = command.channels.map((channel) => ({
      channel,
      event: command.event,
      data: command.data,
      id,
      ...(except ? { except } : {}),
    }));
    if (key === undefined) return { duplicate: false, ...resultOf(id, await broadcaster.publish(drafts)) };
    const outcome = await broadcaster.publishOnce(key, idempotencyTtlS, drafts);
    // A repeat of a publish still in progress (only an older node can leave one) has no result yet.
    if (outcome.duplicate) return { duplicate: true, ...(outcome.previous ?? { id: key, channels: [] }) };
    return { duplicate: false, ...resultOf(id, outcome.metas) };
  }
}

function resultOf(id: string, metas: EventMeta[]): IdempotentResult {
  return { id, channels: metas.map((meta) => ({ channel: meta.channel, offset: meta.offset })) };
}
