import { Socket } from "socket.io";

type Ack = (...args: unknown[]) => void;
/** What Socket.IO (socket.js, in-memory-adapter.js, broadcast-operator.js) calls on `socket.acks`. */
interface AckTable {
  get(id: number): Ack | undefined;
  set(id: number, ack: Ack): unknown;
  delete(id: number): boolean;
  has(id: number): boolean;
  readonly size: number;
}

/** Sockets that were ever asked for an acknowledgement, and their acks. */
const tables = new WeakMap<object, Map<number, Ack>>();
let patched = false;

/**
 * Socket.IO gives every socket `acks = new Map()` in its constructor (184 B with its table), which
 * only a server that asks clients for acknowledgements uses; ours never does. An accessor on the
 * Socket class takes that assignment instead (an empty Map is dropped) and hands out the socket's own
 * Map once something is `set`: until then a throwaway view that finds nothing, so a broadcast ack
 * timeout (`socket.acks.delete(id)` on every socket) makes no Map. Socket.IO only calls `get`, `set`
 * and `delete` on it. Installed once, before the first socket.
 */
export function lazySocketAcks(): void {
  if (patched) return;
  const prototype = Socket.prototype as object;
  if (Object.getOwnPropertyDescriptor(prototype, "acks")) return;
  patched = true;
  Object.defineProperty(prototype, "acks", {
    configurable: true,
    get(this: object): AckTable {
      return tables.get(this) ?? emptyTable(this);
    },
    set(this: object, value: Map<number, Ack>) {
      if (value.size === 0 && !tables.has(this)) return;
      tables.set(this, value);
    },
  });
}

function emptyTable(socket: object): AckTable {
  return {
    get: () => undefined,
    delete: () => false,
    has: () => false,
    size: 0,
    set(id: number, ack: Ack) {
      const table = tables.get(socket) ?? new Map<number, Ack>();
      tables.set(socket, table);
      return table.set(id, ack);
    },
  };
}
