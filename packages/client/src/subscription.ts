import { Listeners } from "./listeners.js";
import type { EventData, EventListener, EventMeta } from "./types.js";

/** A subscribed channel: its events, each once and in order, across reconnects and reloads. */
export class Subscription {
  private readonly listeners = new Listeners();
  /**
   * Events that came before `subscribe()` resolved (a replay precedes the ack): held until the app,
   * which only gets the subscription then, had a turn to add its listeners.
   */
  private held: Array<[string, EventData, EventMeta]> | undefined = [];

  constructor(
    /** The channel's full name, e.g. `thread.7`. */
    readonly channel: string,
    private readonly leave: (subscription: Subscription) => Promise<void>,
  ) {}

  on(event: string, listener: EventListener): this {
    this.listeners.add(event, listener);
    return this;
  }

  /** Without `listener`: every listener of `event`. */
  off(event: string, listener?: EventListener): this {
    this.listeners.remove(event, listener);
    return this;
  }

  /** Leaves the channel; its stored offset is forgotten. */
  unsubscribe(): Promise<void> {
    return this.leave(this);
  }

  /** Called by the client for each event of this channel that passed the filter. */
  deliver(event: string, data: EventData, meta: EventMeta): void {
    if (this.held) this.held.push([event, data, meta]);
    else this.listeners.emit(event, data, meta);
  }

  /** Called when `subscribe()` resolved: the held events go out after the app's continuation ran. */
  release(): void {
    setTimeout(() => {
      const held = this.held ?? [];
      this.held = undefined;
      for (const [event, data, meta] of held) this.listeners.emit(event, data, meta);
    });
  }
}
