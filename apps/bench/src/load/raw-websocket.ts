import { randomBytes } from "node:crypto";
import { connect } from "node:net";

export interface RawWebSocketHandlers {
  onOpen(): void;
  /** A complete text message, decoded as latin1 (the payloads are ASCII). */
  onMessage(text: string): void;
  onClose(reason: string): void;
}

export interface RawWebSocket {
  send(text: string): void;
  close(): void;
  /** Stops reading from the TCP socket (a slow consumer, S7): the server's writes pile up. */
  pause(): void;
  /** Reads again; a connection the server cut meanwhile then reports onClose. */
  resume(): void;
}

/**
 * One read buffer for every socket of the worker (`onread`): reads skip the stream machinery and
 * allocate nothing. Safe because each chunk is parsed synchronously before the next read lands;
 * an incomplete tail is copied out.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/**
 * The smallest WebSocket client that works against `ws` servers: an upgrade request, then frames
 * parsed straight out of the TCP chunks. A full client (the `ws` package) costs the load generator
 * several µs per message — as much as the server under test spends — which on two cores would make
 * the bench measure itself. Not checked on purpose: Sec-WebSocket-Accept (the servers are our own
 * children on 127.0.0.1), extensions (none are negotiated).
 */
export function connectRawWebSocket(url: string, handlers: RawWebSocketHandlers): RawWebSocket {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect({
    port: Number(port),
    host: hostname,
    onread: { buffer: READ_BUFFER, callback: (bytes) => onData(READ_BUFFER.subarray(0, bytes)) },
  });
  socket.setNoDelay(true);
  let open = false;
  let closed = false;
  let pending: Buffer | undefined;
  let fragments: string[] = [];

  const close = (reason: string): void => {
    if (closed) return;
    closed = true;
    socket.destroy();
    handlers.onClose(reason);
  };

  socket.once("connect", () => {
    socket.write(
      `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  function onData(chunk: Buffer): true {
    let buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    if (!open) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) {
        pending = Buffer.from(buffer);
        return true;
      }
      const status = buffer.toString("latin1", 0, buffer.indexOf("\r\n"));
      if (!/^HTTP\/1\.1 101/.test(status)) {
        close(`upgrade refused: ${status}`);
        return true;
      }
      open = true;
      handlers.onOpen();
      buffer = buffer.subarray(end + 4);
    }
    const used = readFrames(buffer);
    // A copy: the tail may still sit in the shared read buffer, which the next read overwrites.
    if (used < buffer.length && !closed) pending = Buffer.from(buffer.subarray(used));
    return true;
  }
  socket.once("error", (error) => close(error.message));
  socket.once("close", () => close("closed"));

  /** Handles every complete frame in `buffer`; returns how many bytes it consumed. */
  function readFrames(buffer: Buffer): number {
    let offset = 0;
    while (!closed && buffer.length - offset >= 2) {
      const first = buffer[offset];
      let length = buffer[offset + 1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buffer.length - offset < 4) break;
        length = buffer.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (buffer.length - offset < 10) break;
        length = Number(buffer.readBigUInt64BE(offset + 2));
        header = 10;
      }
      // Servers never mask (RFC 6455 §5.1); a masked frame would be a broken server.
      if (buffer[offset + 1] & 0x80) {
        close("masked frame from server");
        break;
      }
      const start = offset + header;
      const end = start + length;
      if (end > buffer.length) break;
      onFrame(first & 0x80 ? true : false, first & 0x0f, buffer, start, end);
      offset = end;
    }
    return offset;
  }

  function onFrame(fin: boolean, opcode: number, buffer: Buffer, start: number, end: number): void {
    if (opcode === OP_TEXT || opcode === OP_CONTINUATION) {
      const text = buffer.toString("latin1", start, end);
      if (fin && fragments.length === 0) return handlers.onMessage(text);
      fragments.push(text);
      if (fin) {
        const whole = fragments.join("");
        fragments = [];
        handlers.onMessage(whole);
      }
    } else if (opcode === OP_PING) {
      socket.write(frame(0x8a, buffer.subarray(start, end))); // pong, same payload
    } else if (opcode === OP_CLOSE) {
      close("close frame");
    }
  }

  return {
    send: (text) => {
      if (open && !closed) socket.write(frame(0x81, Buffer.from(text, "utf8")));
    },
    close: () => close("closed by client"),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}

/** A masked client frame (RFC 6455 §5.3): FIN + opcode byte, length, mask key, masked payload. */
function frame(firstByte: number, payload: Buffer): Buffer {
  const extended = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + extended + 4 + payload.length);
  out[0] = firstByte;
  if (extended === 0) out[1] = 0x80 | payload.length;
  else if (extended === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(payload.length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const maskAt = 2 + extended;
  randomBytes(4).copy(out, maskAt);
  for (let i = 0; i < payload.length; i++) out[maskAt + 4 + i] = payload[i] ^ out[maskAt + (i & 3)];
  return out;
}
