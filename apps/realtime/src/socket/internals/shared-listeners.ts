import type { RealtimeSocket } from "../types";

type Listener = (this: RealtimeSocket, ...args: never[]) => void;

/** Node's EventEmitter keeps its listeners in `_events` (a dictionary), counted in `_eventsCount`. */
interface EmitterInternals {
  _events?: Record<string, unknown>;
  _eventsCount?: number;
}

/**
 * The same listeners on every socket of a server, without a listener table per socket: a socket's
 * `_events` becomes an empty object whose prototype is one shared table. EventEmitter reads
 * listeners with `_events[type]`, which finds them through the prototype; a listener added later
 * to one socket (`socket.on`) becomes an own property of that socket's table (the shared one
 * first, as if it had been added first), so nothing else changes. With seven events a socket's own
 * dictionary cost ~470 B of heap; the empty object costs ~30 B.
 *
 * Socket.IO gives each socket a no-op `error` listener in its constructor; the shared table takes
 * it over. A socket whose table holds anything else by then gets its listeners the usual way.
 */
export class SharedListeners {
  private table: Record<string, unknown> | undefined;

  constructor(private readonly listeners: ReadonlyArray<readonly [string, Listener]>) {}

  attach(socket: RealtimeSocket): void {
    const emitter = socket as unknown as EmitterInternals;
    const own = emitter._events;
    const ownKeys = own ? Reflect.ownKeys(own) : [];
    const onlyNoopError = own !== undefined && ownKeys.length === 1 && ownKeys[0] === "error";
    const errorListener = onlyNoopError ? own.error : undefined;
    if (typeof errorListener === "function" && Object.getPrototypeOf(own) === null) {
      this.table ??= this.makeTable(errorListener);
      if (this.table.error === errorListener) {
        emitter._events = Object.create(this.table) as Record<string, unknown>;
        emitter._eventsCount = this.listeners.length + 1;
        return;
      }
    }
    for (const [event, listener] of this.listeners) socket.on(event as "subscribe", listener as never);
  }

  private makeTable(errorListener: unknown): Record<string, unknown> {
    const table = Object.create(null) as Record<string, unknown>;
    table.error = errorListener;
    for (const [event, listener] of this.listeners) table[event] = listener;
    // Not frozen: a read-only inherited property would forbid the own one `socket.on` adds.
    return table;
  }
}
