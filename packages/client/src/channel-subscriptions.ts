import type { Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "@mechamap/protocol";
import { RealtimeClientError } from "./client-error.js";
import type { EventFilter } from "./event-filter.js";
import type { OffsetStore } from "./offset-store.js";
import { Subscription } from "./subscription.js";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How long a subscribe waits for its ack while connected. */
export const ACK_TIMEOUT_MS = 10_000;

interface Entry {
  subscription: Subscription;
  /** The app's `subscribe()` promise, settled by the first ack. */
  ready: Promise<Subscription>;
  settle?: (error?: RealtimeClientError) => void;
}

export interface SubscriptionReports {
  gap(channel: string): void;
  /** A channel refused on a resubscribe: the app has no promise left to hear of it. */
  error(error: RealtimeClientError): void;
}

/**
 * The channels the app subscribed to: joined with their stored offset as `since` on each connection,
 * so that the node replays what was missed; refused or left ones are dropped with their offset.
 */
export class ChannelSubscriptions {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly socket: ClientSocket,
    private readonly offsets: OffsetStore,
    private readonly filter: EventFilter,
    private readonly reports: SubscriptionReports,
  ) {}

  get(channel: string): Subscription | undefined {
    return this.entries.get(channel)?.subscription;
  }

  subscribe(channel: string): Promise<Subscription> {
    const known = this.entries.get(channel);
    if (known) return known.ready;
    const subscription = new Subscription(channel, (s) => this.leave(s));
    let settle: (error?: RealtimeClientError) => void = () => undefined;
    const ready = new Promise<Subscription>((resolve, reject) => {
      settle = (error) => {
        if (error) return reject(error);
        resolve(subscription);
        subscription.release();
      };
    });
    const entry: Entry = {
      subscription,
      ready,
      settle: (error) => {
        entry.settle = undefined;
        settle(error);
      },
    };
    this.entries.set(channel, entry);
    if (this.socket.connected) this.join(entry);
    return ready;
  }

  /** On each connection: every channel again, from its newest offset. */
  joinAll(): void {
    for (const entry of this.entries.values()) this.join(entry);
  }

  /** The client closed: `subscribe()` calls still waiting reject with `closed`. */
  closeAll(): void {
    for (const entry of this.entries.values())
      entry.settle?.(new RealtimeClientError("closed", "the client is closed"));
  }

  private join(entry: Entry): void {
    const { channel } = entry.subscription;
    const since = this.offsets.get(channel);
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit("subscribe", since === undefined ? { channel } : { channel, since }, (error, answer) => {
        if (this.entries.get(channel) !== entry) return; // left meanwhile
        if (error) {
          // Disconnected before the answer: the next connection joins again.
          if (!this.socket.connected) return;
          return this.refuse(entry, new RealtimeClientError("timeout", `subscribe ${channel}: no answer`, channel));
        }
        if (!answer.ok) {
          return this.refuse(entry, new RealtimeClientError(answer.error, `subscribe ${channel} refused`, channel));
        }
        if (since !== undefined && !answer.recovered) this.reports.gap(channel);
        entry.settle?.();
      });
  }

  private refuse(entry: Entry, error: RealtimeClientError): void {
    this.entries.delete(entry.subscription.channel);
    if (entry.settle) entry.settle(error);
    else this.reports.error(error);
  }

  private async leave(subscription: Subscription): Promise<void> {
    const { channel } = subscription;
    if (this.entries.get(channel)?.subscription !== subscription) return;
    this.entries.delete(channel);
    this.filter.forget(channel);
    if (!this.socket.connected) return; // the next connection simply does not join it
    await this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck("unsubscribe", { channel })
      .catch(() => undefined); // a lost answer leaves the socket in the room until it reconnects: harmless
  }
}
