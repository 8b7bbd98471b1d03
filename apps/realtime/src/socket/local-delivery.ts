import { ALL_CHANNEL, isChannelName, isEchoChannelName } from "@mechamap/protocol";
import type { ChannelMessage, History, Replay } from "../core/ports";
import { compareOffsets } from "../core/offsets";
import { encodeBroadcast, EncodedBroadcast, FrameWriter } from "./internals/frame-writer";
import type { RealtimeServer, RealtimeSocket } from "./types";

/** How many sockets a message was written to: straight to TCP, or queued in Engine.IO (see FrameWriter). */
export interface WriteCounts {
  direct: number;
  queued: number;
}

/** Sockets being brought up to date on a channel: live delivery skips them and buffers for them. */
interface RecoverySession {
  buffer: ChannelMessage[];
  members: Set<string>;
  /** Set while the session waits for live delivery to reach what the replay already sent. */
  awaiting?: { offset: string; done: () => void };
}

/**
 * How long a finished replay waits for this node's live stream to catch up with it. The history read
 * and the bus are two Redis connections: the reply to the read can arrive before bus messages it
 * already contains, which would then go out live a second time.
 */
const CATCH_UP_WAIT_MS = 1000;
/** Channels whose last delivered offset is remembered (the least recently delivered are forgotten). */
const MAX_TRACKED_CHANNELS = 100_000;

/**
 * The node's one way to its own sockets: each message is encoded once and written to each socket by
 * the FrameWriter. Live messages go to the channel's sockets on this node. Sockets that recover a channel get
 * the missed messages first and the live ones that arrived meanwhile after them, each once, in
 * offset order: a client coming back with its offsets, or every socket of the node after its bus
 * subscription was down (a gap).
 */
export class LocalDelivery {
  private readonly recovering = new Map<string, Set<RecoverySession>>();
  /** The newest offset delivered per channel: where a gap replay starts, and what a replay waits for. */
  private readonly lastDelivered = new Map<string, string>();
  private readonly writer = new FrameWriter();
  /** The main namespace, looked up once (`io.of` normalises and looks up its name on every call). */
  private nsp: ReturnType<RealtimeServer["of"]> | undefined;

  constructor(
    private readonly io: RealtimeServer,
    private readonly history: History,
    private readonly onDelivered: (message: ChannelMessage, written: WriteCounts) => void = () => undefined,
  ) {}

  readonly deliver = (message: ChannelMessage): void => {
    const { channel, meta } = message;
    const sessions = this.recovering.get(channel);
    for (const session of sessions ?? []) session.buffer.push(message);
    // Live messages go to the channel's sockets on this node (the bus brought them to every node),
    // except those a recovery session is bringing up to date: it sends them this one in order.
    const nsp = (this.nsp ??= this.io.of("/"));
    const ids = channel === ALL_CHANNEL ? nsp.sockets.keys() : nsp.adapter.rooms.get(channel);
    const recovering = sessions && new Set([...sessions].flatMap((session) => [...session.members]));
    const written = this.send(ids ?? [], message, recovering);
    if (meta) {
      // Most recently delivered channels last, so that the oldest go first past the bound.
      this.lastDelivered.delete(channel);
      this.lastDelivered.set(channel, meta.offset);
      if (this.lastDelivered.size > MAX_TRACKED_CHANNELS)
        this.lastDelivered.delete(this.lastDelivered.keys().next().value as string);
      for (const session of sessions ?? []) {
        if (session.awaiting && compareOffsets(meta.offset, session.awaiting.offset) >= 0) session.awaiting.done();
      }
    }
    this.onDelivered(message, written);
  };

  /**
   * Joins `channel`; with `since`, first replays what the socket missed after that offset.
   * Resolves with whether every missed message could be replayed (false without `since`).
   */
  async join(socket: RealtimeSocket, channel: string, since?: string): Promise<boolean> {
    if (since === undefined) {
      if (channel !== ALL_CHANNEL) void socket.join(channel);
      return false;
    }
    return this.recover(channel, since, [socket]);
  }

  /**
   * After the bus was down from `sinceMs` on, replays what every local socket missed, per channel,
   * from the last offset this node delivered there (else from that time: offsets are Redis times).
   * With `only`, just those channels (the ones of a shard that was lost).
   */
  async catchUp(sinceMs: number, only?: string[]): Promise<void> {
    const rooms = this.io.of("/").adapter.rooms;
    const wanted = only && new Set(only);
    const channels = [...rooms.keys()].filter(
      (room) =>
        (isChannelName(room) || isEchoChannelName(room)) &&
        !room.startsWith("presence.") &&
        (!wanted || wanted.has(room)),
    );
    if (this.io.of("/").sockets.size > 0 && (!wanted || wanted.has(ALL_CHANNEL))) channels.push(ALL_CHANNEL);
    await Promise.all(
      channels.map((channel) => {
        const all = channel === ALL_CHANNEL ? [...this.io.of("/").sockets.values()] : this.localMembers(channel);
        // A socket already recovering this channel gets everything after its own offset: leave it be.
        const busy = new Set([...(this.recovering.get(channel) ?? [])].flatMap((session) => [...session.members]));
        const members = all.filter((socket) => !busy.has(socket.id));
        return this.recover(channel, this.lastDelivered.get(channel) ?? `${sinceMs}-0`, members);
      }),
    );
  }

  private async recover(channel: string, since: string, sockets: RealtimeSocket[]): Promise<boolean> {
    const session: RecoverySession = { buffer: [], members: new Set(sockets.map((socket) => socket.id)) };
    this.track(channel, session);
    if (channel !== ALL_CHANNEL) for (const socket of sockets) void socket.join(channel);
    try {
      // History away (Redis down): the live messages buffered meanwhile still go out, and
      // recovered:false tells the app to refetch what it may have missed.
      const replay = await this.history.since(channel, since).catch((): Replay => ({ recovered: false, messages: [] }));
      let last = since;
      const flush = (messages: ChannelMessage[]): void => {
        for (const message of messages) {
          // Live messages may repeat the tail of the replay: each offset goes out once, in order.
          if (message.meta && compareOffsets(message.meta.offset, last) <= 0) continue;
          if (message.meta) last = message.meta.offset;
          this.send(session.members, message);
        }
      };
      flush([...replay.messages, ...session.buffer.splice(0)]);
      if (compareOffsets(this.lastDelivered.get(channel) ?? "0-0", last) < 0) {
        await this.liveReaches(session, last);
        flush(session.buffer.splice(0));
      }
      return replay.recovered;
    } finally {
      // Synchronous from the last await on: no live message can slip between flush and untrack.
      this.untrack(channel, session);
    }
  }

  /** Resolves once live delivery passed `offset` on this channel, or after CATCH_UP_WAIT_MS. */
  private liveReaches(session: RecoverySession, offset: string): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), CATCH_UP_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        session.awaiting = undefined;
        resolve();
      };
      session.awaiting = { offset, done };
    });
  }

  /**
   * Encodes the message once per dialect (only if anyone speaks it) and writes it to each of these
   * sockets still here, but `message.except`. Our sockets get `(data, meta)`; sockets that speak
   * Laravel Echo (`socket.data.echo`, set by their first Echo-shaped subscribe) get `(channel, data)`.
   */
  private send(socketIds: Iterable<string>, message: ChannelMessage, skip?: Set<string>): WriteCounts {
    const sockets = (this.nsp ??= this.io.of("/")).sockets;
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

  private localMembers(channel: string): RealtimeSocket[] {
    const sockets = this.io.of("/").sockets;
    return [...(this.io.of("/").adapter.rooms.get(channel) ?? [])]
      .map((id) => sockets.get(id))
      .filter((socket): socket is RealtimeSocket => socket !== undefined);
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
