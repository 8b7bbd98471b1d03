import { Socket } from "engine.io";

interface EngineSocketInternals {
  /** Per flush: the packets' send callbacks (or null), shifted when the transport drains. */
  sentCallbackFn: unknown[];
  onDrain(): void;
}

let patched = false;

/**
 * Engine.IO pushes one entry into `sentCallbackFn` per flush and shifts it on `drain`, so after the
 * first flush the empty array keeps the 17 slots of its first push (152 B), and every ping brings them
 * back. Once drained to empty it is replaced by a new empty array (nothing reads it but `flush` and
 * `onDrain`, through `this.sentCallbackFn`). Patched on the class before the first connection:
 * `setTransport` binds `this.onDrain` per connection, so it binds this one. Costs one empty array per
 * flush through Engine.IO (the frame writer's direct writes do not flush).
 */
export function dropDrainedCallbackQueues(): void {
  if (patched) return;
  const prototype = Socket.prototype as unknown as EngineSocketInternals;
  if (typeof prototype.onDrain !== "function") return;
  patched = true;
  const onDrain = prototype.onDrain;
  prototype.onDrain = function (this: EngineSocketInternals) {
    onDrain.call(this);
    if (Array.isArray(this.sentCallbackFn) && this.sentCallbackFn.length === 0) this.sentCallbackFn = [];
  };
}
