import WebSocket from "ws";

/** ws' frame parser (lib/receiver.js), public on the module but missing from @types/ws. */
interface ReceiverInternals {
  /** 0 (GET_INFO): between frames, waiting for the next one. */
  _state: number;
  _bufferedBytes: number;
  /** Received chunks not parsed yet. */
  _buffers: Buffer[];
  /** The last masked frame's key: a view on the chunk it came in. */
  _mask: Buffer | undefined;
  _write(chunk: Buffer, encoding: string, cb: (error?: Error | null) => void): void;
}

const GET_INFO = 0;
let patched = false;

/**
 * After parsing a frame, ws' Receiver keeps two things it no longer needs until the next frame:
 * `_mask`, a view on the chunk the frame came in (so that chunk's ArrayBuffer too: ~220 B of heap,
 * and the chunk's bytes outside it), and `_buffers`, the queue of unparsed chunks, empty but with
 * the room a first push gave it (17 slots, 152 B). Every client frame (a subscribe, a pong every
 * 25 s) brings both back, so they are dropped after every write that leaves the parser between
 * frames with nothing buffered: `getMask()` sets `_mask` before any read of it, and `_buffers` is
 * only read through `this._buffers`. Patched once on the class (no memory per connection); costs
 * one empty array per incoming frame.
 */
export function trimIdleReceivers(): void {
  if (patched) return;
  const receiver = (WebSocket as unknown as { Receiver?: { prototype: ReceiverInternals } }).Receiver;
  if (!receiver || typeof receiver.prototype._write !== "function") return;
  patched = true;
  const write = receiver.prototype._write;
  receiver.prototype._write = function (this: ReceiverInternals, chunk, encoding, cb) {
    write.call(this, chunk, encoding, cb);
    if (this._state === GET_INFO && this._bufferedBytes === 0 && this._buffers.length === 0) {
      this._mask = undefined;
      this._buffers = [];
    }
  };
}
