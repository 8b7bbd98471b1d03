import { ALL_CHANNEL, isChannelName, isEchoChannelName } from "@mechamap/protocol";
import { compareOffsets } from "./offsets";
import type { ChannelInterest, ChannelMessage, History, LocalSockets, Replay, Scheduler, WriteCounts } from "./ports";

export interface ChannelDeliveryOptions {
  sockets: LocalSockets;
  history: History;
  /** What a join waits for: this node's subscription to the channel (`hold`). */
  interest: Pick<ChannelInterest, "hold">;
  /** The replay's wait for live delivery, and the backoff of a gap replay's history reads. */
  scheduler: Scheduler;
  /** Told of every live message and what it was written to (metrics). Default: nothing. */
  onDelivered?: (message: ChannelMessage, written: WriteCounts) => void;
  /** A gap replay's history read failed; it is tried again after `retryInMs`. Default: nothing. */
  onReadFailed?: (channel: string, attempt: number, retryInMs: number, error: unknown) => void;
}

/**
 * How long a finished replay waits for this node's live stream to catch up with it. The history read
 * and the bus are two Redis connections: the reply to the read can arrive before bus messages it
 * already contains, which would then go out live a second time.
 */
export const CATCH_UP_WAIT_MS = 1000;
/** A gap replay whose history read fails tries again after 100 ms, doubling up to every 2 s. */
export const READ_RETRY_FIRST_MS = 100;
export const READ_RETRY_MAX_MS = 2000;
/**
 * How long the members of a replay that ran ahead of live delivery stay apart ("trailing"), unless
 * live delivery gets there first: long enough for the bus to notice a lost shard and signal its gap.
 */
export const TRAILING_MAX_MS = 60_000;
/** Channels whose last delivered offset is remembered (the least recently delivered are forgotten). */
const MAX_TRACKED_CHANNELS = 100_000;

/** Sockets being brought up to date on a channel: live delivery skips them and buffers for them. */
interface RecoverySession {
  members: Set<string>;
  buffer: ChannelMessage[];
  /**
   * A gap was signalled for the channel since the session's last history read began: messages the
   * bus dropped may be in neither that read nor the buffer, so the session reads again from where it got.
   */
  gapped: boolean;
  /** Set while the session waits for live delivery to reach what the replay already sent. */
  awaiting?: { offset: string; done: () => void };
  /**
   * Set once the session is done but live delivery is still behind what it sent (its wait timed
   * out): live messages up to this offset are not sent to its members again, the first newer one
   * ends the session, and a gap replays from here for them. Ends at TRAILING_MAX_MS at the latest.
   */
  trailing?: { offset: string; end: () => void };
}

/**
 * Delivery of channel messages to this node's sockets: the one path of API broadcasts, batches,
 * presence events and replays. Live messages go to the channel's local members. Sockets that recover
 * a channel get the missed messages from the history first and the live ones that arrived meanwhile
 * after them, each offset once, in order: a client coming back with its offset (`join` with `since`),
 * or the members of this node after its bus subscription was down (`catchUp`, a gap).
 *
 * Each channel's `lastDelivered` is the newest offset live delivery reached; the sockets that are not
 * recovering have everything up to it (the bus drops a lost shard's messages until its gap is
 * signalled, so it never moves past a hole). A gap replay starts there for them; sockets recovering
 * when a gap is signalled read again from their own last offset instead.
 */
export class ChannelDelivery {
  private readonly recovering = new Map<string, Set<RecoverySession>>();
  private readonly lastDelivered = new Map<string, string>();
  private readonly onDelivered: NonNullable<ChannelDeliveryOptions["onDelivered"]>;

  constructor(private readonly options: ChannelDeliveryOptions) {
    this.onDelivered = options.onDelivered ?? (() => undefined);
  }

  /** A live message from the bus. The fan-out hot path: no allocation unless a recovery runs. */
  readonly deliver = (message: ChannelMessage): void => {
    const { channel, meta } = message;
    const sessions = this.recovering.get(channel);
    const skip = sessions && this.holdBack(sessions, message);
    const written = this.options.sockets.write(this.localMembers(channel), message, skip);
    if (meta) {
      this.remember(channel, meta.offset);
      if (sessions) {
        for (const session of sessions) {
          if (session.awaiting && compareOffsets(meta.offset, session.awaiting.offset) >= 0) session.awaiting.done();
        }
      }
    }
    this.onDelivered(message, written);
  };

  /**
   * Who of the channel's recovering sockets must not get this live message now: a running session
   * buffers it and sends it in order after its replay; a trailing one already sent it (or, newer
   * than what it sent, ends). Ephemeral messages go to trailing sessions at once.
   */
  private holdBack(sessions: Set<RecoverySession>, message: ChannelMessage): ReadonlySet<string> | undefined {
    let skip: Set<string> | undefined;
    for (const session of sessions) {
      if (!session.trailing) session.buffer.push(message);
      else if (!message.meta) continue;
      else if (compareOffsets(message.meta.offset, session.trailing.offset) > 0) {
        session.trailing.end();
        continue;
      }
      if (sessions.size === 1) return session.members;
      skip ??= new Set();
      for (const id of session.members) skip.add(id);
    }
    return skip;
  }

  /**
   * Makes a socket a member of `channel`; with `since`, first replays what it missed after that offset.
   * Resolves with whether every missed message could be replayed (false without `since`).
   */
  async join(socketId: string, channel: string, since?: string): Promise<boolean> {
    if (since === undefined) {
      await this.enter(socketId, channel);
      return false;
    }
    return this.recover(channel, since, new Set([socketId]), "client");
  }

  /**
   * The bus was down from `sinceMs` on (for `only` these channels, those of one shard; else for every
   * channel): replays to the local members what they may have missed, from the channel's last
   * delivered offset (else from that time: offsets are Redis times). Members already recovering the
   * channel read again from their own offset when their session gets there. Resolves when done.
   * The replays start (and hold live messages back) before this returns: call it from the gap signal,
   * before the next live message of those channels.
   */
  async catchUp(sinceMs: number, only?: readonly string[]): Promise<void> {
    const channels = only ?? [...this.options.sockets.channels(), ALL_CHANNEL];
    const replays: Array<Promise<boolean>> = [];
    for (const channel of new Set(channels)) {
      if (!hasHistory(channel)) continue;
      for (const session of [...(this.recovering.get(channel) ?? [])]) {
        if (session.trailing) {
          // Done, ahead of live delivery: its members read from their own offset.
          session.trailing.end();
          replays.push(this.recover(channel, session.trailing.offset, session.members, "gap"));
          continue;
        }
        session.gapped = true;
        session.awaiting?.done();
      }
      const sessions = this.recovering.get(channel);
      const busy = sessions && membersOf(sessions);
      const members = new Set<string>();
      for (const id of this.localMembers(channel)) if (!busy?.has(id)) members.add(id);
      // No local member (left meanwhile, or only recovering ones): nothing to read.
      if (members.size === 0) continue;
      replays.push(this.recover(channel, this.lastDelivered.get(channel) ?? `${sinceMs}-0`, members, "gap"));
    }
    await Promise.all(replays);
  }

  private async recover(
    channel: string,
    since: string,
    members: Set<string>,
    kind: "client" | "gap",
  ): Promise<boolean> {
    const session: RecoverySession = { members, buffer: [], gapped: false };
    this.track(channel, session);
    let trailing = false;
    try {
      // Tracked first: live messages from the subscription's start on are buffered for the session.
      if (kind === "client") for (const id of members) await this.enter(id, channel);
      let last = since;
      let recovered: boolean | undefined;
      do {
        // Only a client's first read may give up at once (read() says why); a follow-up after a gap
        // has already sent a replay, and the rest must come in order after it.
        const replay = await this.read(channel, last, session, kind === "gap" || recovered !== undefined);
        if (!replay) return false;
        recovered ??= replay.recovered;
        // The history is whole from `last` to the read: always safe to send.
        last = this.flush(session, replay.messages, last);
        // The buffer may lack what the bus dropped during the gap: read again first.
        if (session.gapped) continue;
        last = this.flush(session, session.buffer.splice(0), last);
        if (compareOffsets(this.lastDelivered.get(channel) ?? "0-0", last) < 0) {
          await this.liveReaches(session, last);
          if (!session.gapped) last = this.flush(session, session.buffer.splice(0), last);
        }
      } while (session.gapped);
      trailing = this.finish(channel, session, last, last !== since);
      return recovered;
    } finally {
      // Synchronous from the last await on: no live message can slip between flush and untrack.
      if (!trailing) this.untrack(channel, session);
    }
  }

  /**
   * The replay after `after`. A client's own recovery does not wait out a failing history: it gets
   * recovered:false (its app refetches, as for a gap older than the history) and its live messages at
   * once, rather than a subscribe ack and a live stream held back for as long as Redis is away. A gap
   * replay has no one to tell: it tries again with backoff while any of its members is still here
   * (their live messages stay buffered, so order holds). Undefined when they all left.
   */
  private async read(
    channel: string,
    after: string,
    session: RecoverySession,
    retry: boolean,
  ): Promise<Replay | undefined> {
    for (let attempt = 1, delay = READ_RETRY_FIRST_MS; ; attempt++, delay = Math.min(2 * delay, READ_RETRY_MAX_MS)) {
      // A read that starts after a gap was signalled holds what the gap missed.
      session.gapped = false;
      try {
        return await this.options.history.since(channel, after);
      } catch (error) {
        if (!retry) return { recovered: false, messages: [] };
        this.options.onReadFailed?.(channel, attempt, delay, error);
        await new Promise<void>((resolve) => this.options.scheduler.after(delay, resolve));
        const present = new Set(this.localMembers(channel));
        for (const id of session.members) if (!present.has(id)) session.members.delete(id);
        if (session.members.size === 0) return undefined;
      }
    }
  }

  /** Sends the session's members what is newer than `last`, in order; returns the newest offset sent. */
  private flush(session: RecoverySession, messages: ChannelMessage[], last: string): string {
    for (const message of messages) {
      if (message.meta) {
        // Live messages may repeat the tail of the replay: each offset goes out once.
        if (compareOffsets(message.meta.offset, last) <= 0) continue;
        last = message.meta.offset;
      }
      this.options.sockets.write(session.members, message);
    }
    return last;
  }

  /**
   * Where a session that sent up to `last` leaves its members; true when they go on trailing. Live
   * delivery got there: they are members like the others. It did not (the wait timed out: the node
   * did not hold the channel before, the bus lags, or the bus lost those messages): they trail, so
   * that late live copies and the next gap replay do not send them again what they have. When they
   * are all of the channel's members and `sent` something, that is also where the channel stands:
   * a gap after their trailing ended starts there.
   */
  private finish(channel: string, session: RecoverySession, last: string, sent: boolean): boolean {
    const delivered = this.lastDelivered.get(channel);
    if (delivered !== undefined && compareOffsets(delivered, last) >= 0) return false;
    if (sent && every(this.localMembers(channel), (id) => session.members.has(id))) this.remember(channel, last);
    session.buffer = [];
    const stop = this.options.scheduler.after(TRAILING_MAX_MS, () => end());
    const end = (): void => {
      stop();
      this.untrack(channel, session);
    };
    session.trailing = { offset: last, end };
    return true;
  }

  /** Resolves once live delivery passed `offset` on this channel, a gap was signalled, or after CATCH_UP_WAIT_MS. */
  private liveReaches(session: RecoverySession, offset: string): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.options.scheduler.after(CATCH_UP_WAIT_MS, () => done());
      const done = (): void => {
        cancel();
        session.awaiting = undefined;
        resolve();
      };
      session.awaiting = { offset, done };
    });
  }

  /**
   * Makes the socket a member, and waits until this node gets the channel's messages: until then a
   * broadcast would reach neither the socket live nor (for a recovery) the history read, which could
   * run before it was published. Only the first member on this node waits for Redis (the interest
   * answers at once for a held channel); a failed subscription is a gap, for the bus to report.
   */
  private async enter(socketId: string, channel: string): Promise<void> {
    if (channel === ALL_CHANNEL || !this.options.sockets.join(socketId, channel)) return;
    await this.options.interest.hold(channel).catch(() => undefined);
  }

  private localMembers(channel: string): Iterable<string> {
    return channel === ALL_CHANNEL ? this.options.sockets.everyone() : this.options.sockets.members(channel);
  }

  /** Most recently delivered channels last, so that the oldest go first past the bound. */
  private remember(channel: string, offset: string): void {
    this.lastDelivered.delete(channel);
    this.lastDelivered.set(channel, offset);
    if (this.lastDelivered.size > MAX_TRACKED_CHANNELS) {
      this.lastDelivered.delete(this.lastDelivered.keys().next().value as string);
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

/** The channels a gap replay covers: those with a history (presence watches are ephemeral). */
function hasHistory(channel: string): boolean {
  if (channel === ALL_CHANNEL) return true;
  return (isChannelName(channel) || isEchoChannelName(channel)) && !channel.startsWith("presence.");
}

function every<T>(items: Iterable<T>, test: (item: T) => boolean): boolean {
  for (const item of items) if (!test(item)) return false;
  return true;
}

/** Every socket of these sessions (one session's own set when there is one). */
function membersOf(sessions: Set<RecoverySession>): ReadonlySet<string> {
  if (sessions.size === 1) for (const session of sessions) return session.members;
  const all = new Set<string>();
  for (const session of sessions) for (const id of session.members) all.add(id);
  return all;
}
