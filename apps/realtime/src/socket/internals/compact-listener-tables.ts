/** Node's EventEmitter keeps its listeners in `_events` (a dictionary), counted in `_eventsCount`. */
interface EmitterInternals {
  _events?: Record<string | symbol, unknown>;
}

/**
 * The prototype of every compacted table: empty and without a prototype of its own, so a lookup
 * of an event nobody listens to still finds nothing (not `Object.prototype.toString`).
 */
const NO_LISTENERS: Record<string | symbol, unknown> = Object.create(null) as Record<string | symbol, unknown>;

/**
 * EventEmitter makes `_events` with `{ __proto__: null }`, which V8 keeps in dictionary mode: a hash
 * table sized for the most listeners it ever had, ~450–830 B each for Engine.IO's socket, its
 * WebSocket transport and ws' WebSocket once they are set up. The same listeners in an object
 * whose prototype is an empty, prototype-less table take the fast layout (properties in the object,
 * one hidden class shared by every connection that has the same events in the same order): ~100 B.
 *
 * Nothing else changes: EventEmitter reads `_events[type]`, adds with `_events[type] = …`, removes
 * with `delete`, lists with `Reflect.ownKeys(_events)`, and replaces the table when it empties; all
 * behave the same on the copy (a `delete` only turns it back into a dictionary). Called once an
 * emitter's listeners are set for the life of the connection (Engine.IO and Socket.IO add theirs
 * before `connection`, and again on an upgrade to WebSocket).
 */
export function compactListenerTable(emitter: unknown): void {
  const internals = emitter as EmitterInternals | null | undefined;
  const table = internals?._events;
  if (!internals || !table || Object.getPrototypeOf(table) !== null) return;
  const compact = Object.create(NO_LISTENERS) as Record<string | symbol, unknown>;
  for (const key of Reflect.ownKeys(table)) compact[key] = table[key];
  internals._events = compact;
}
