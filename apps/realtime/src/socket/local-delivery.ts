import { ALL_CHANNEL } from "@mechamap/protocol";
import type { ChannelMessage, History } from "../core/ports";
import { compareOffsets } from "../core/offsets";
import { loosely, LooseEmitter, RealtimeServer, RealtimeSocket } from "./types";

interface RecoverySession {
  buffer: ChannelMessage[];
}

/** Sockets recovering a channel sit in this room, which live delivery skips. */
const recoveringRoom = (channel: string): string => `~recovering.${channel}`;

export interface Recovery {
  recovered: boolean;
  replayed: number;
}

/**
 * The node's one way to its own sockets. Live messages go to a channel's room (local sockets only:
 * the cluster bus already brought the message to every node). A socket that recovers a channel
 * gets the missed messages first and the live ones that arrived meanwhile after them, each once.
 */
export class LocalDelivery {
  private readonly recovering = new Map<string, Set<RecoverySession>>();

  constructor(
    private readonly io: RealtimeServer,
    private readonly history: History,
    private readonly onDelivered: (message: ChannelMessage) => void = () => undefined,
  ) {}

  readonly deliver = (message: ChannelMessage): void => {
    const sessions = this.recovering.get(message.channel);
    const everyone = this.io.local;
    let target = message.channel === ALL_CHANNEL ? everyone : everyone.to(message.channel);
    if (sessions) {
      target = target.except(recoveringRoom(message.channel));
      for (const session of sessions) session.buffer.push(message);
    }
    send(loosely(target), message);
    this.onDelivered(message);
  };

  /** Joins `channel`; with `since`, first replays what the socket missed after that offset. */
  async join(socket: RealtimeSocket, channel: string, since?: string): Promise<Recovery> {
    if (since === undefined) {
      if (channel !== ALL_CHANNEL) void socket.join(channel);
      return { recovered: false, replayed: 0 };
    }
    const session: RecoverySession = { buffer: [] };
    this.track(channel, session);
    void socket.join(recoveringRoom(channel));
    if (channel !== ALL_CHANNEL) void socket.join(channel);
    try {
      const replay = await this.history.since(channel, since);
      let last = since;
      let replayed = 0;
      const target = loosely(socket);
      for (const message of replay.recovered ? [...replay.messages, ...session.buffer] : session.buffer) {
        // Live messages may repeat the tail of the replay: each offset goes out once, in order.
        if (message.meta && compareOffsets(message.meta.offset, last) <= 0) continue;
        if (message.meta) last = message.meta.offset;
        send(target, message);
        replayed++;
      }
      return { recovered: replay.recovered, replayed };
    } finally {
      // Synchronous from the last await on: no live message can slip between flush and leave.
      this.untrack(channel, session);
      void socket.leave(recoveringRoom(channel));
    }
  }

  private track(channel: string, session: RecoverySession): void {
    const sessions = this.recovering.get(channel) ?? new Set();
    sessions.add(session);
    this.recovering.set(channel, sessions);
  }

  private untrack(channel: string, session: RecoverySession): void {
    const sessions = this.recovering.get(channel);
    sessions?.delete(session);
    if (sessions?.size === 0) this.recovering.delete(channel);
  }
}

function send(target: LooseEmitter, message: ChannelMessage): void {
  if (message.meta) target.emit(message.event, message.data, message.meta);
  else target.emit(message.event, message.data);
}
