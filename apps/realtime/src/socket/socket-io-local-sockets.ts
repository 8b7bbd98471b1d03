import type { ChannelMessage, LocalSockets, WriteCounts } from "../core/ports";
import { encodeBroadcast, EncodedBroadcast, FrameWriter } from "./internals/frame-writer";
import type { RealtimeServer } from "./types";

const NONE: ReadonlySet<string> = new Set();

/**
 * The node's sockets as channel delivery (core/channel-delivery.ts) sees them: Socket.IO's rooms of
 * the main namespace, and writes that encode each message once per dialect and hand the frame to the
 * FrameWriter. No delivery logic here: what goes to whom, and when, is the core's.
 */
export class SocketIoLocalSockets implements LocalSockets {
  private readonly writer = new FrameWriter();
  /** The main namespace, looked up once (`io.of` normalises and looks up its name on every call). */
  private nsp: ReturnType<RealtimeServer["of"]> | undefined;

  constructor(private readonly io: RealtimeServer) {}

  members(channel: string): Iterable<string> {
    return this.main().adapter.rooms.get(channel) ?? NONE;
  }

  everyone(): Iterable<string> {
    return this.main().sockets.keys();
  }

  /** Every room but the sockets' own (each socket is in a room named by its id). */
  *channels(): Iterable<string> {
    const { adapter, sockets } = this.main();
    for (const room of adapter.rooms.keys()) if (!sockets.has(room)) yield room;
  }

  /**
   * Encodes the message once per dialect (only if anyone speaks it) and writes it to each of these
   * sockets still here, but `skip` and `message.except`. Our sockets get `(data, meta)`; sockets that
   * speak Laravel Echo (`socket.data.echo`, set by their first Echo-shaped subscribe) get `(channel, data)`.
   */
  write(socketIds: Iterable<string>, message: ChannelMessage, skip?: ReadonlySet<string>): WriteCounts {
    const sockets = this.main().sockets;
    let direct = 0;
    let queued = 0;
    let encoded: EncodedBroadcast | undefined;
    let echoEncoded: EncodedBroadcast | undefined;
    for (const id of socketIds) {
      const socket = skip?.has(id) || id === message.except ? undefined : sockets.get(id);
      if (!socket) continue;
      let frame: EncodedBroadcast;
      if (socket.data.echo) frame = echoEncoded ??= encodeBroadcast(message.event, [message.channel, message.data]);
      else
        frame = encoded ??= encodeBroadcast(
          message.event,
          message.meta ? [message.data, message.meta] : [message.data],
        );
      if (this.writer.write(socket.conn, frame)) direct++;
      else queued++;
    }
    return { direct, queued };
  }

  /** A socket that left meanwhile is not added (a room would keep its id for ever). */
  join(socketId: string, channel: string): boolean {
    const socket = this.main().sockets.get(socketId);
    // Synchronous on the in-memory adapter (the one every adapter here extends).
    void socket?.join(channel);
    return socket !== undefined;
  }

  private main(): ReturnType<RealtimeServer["of"]> {
    return (this.nsp ??= this.io.of("/"));
  }
}
