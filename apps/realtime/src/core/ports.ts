import type { EchoMember, EventData, EventMeta } from "@mechamap/protocol";

/**
 * The ports through which the core talks to the world. Each has a memory implementation
 * (embedded mode) and a Redis one (cluster mode), chosen in the composition root only.
 */

/** A message on its way to the sockets of one channel. Ephemeral messages (presence) have no meta. */
export interface ChannelMessage {
  channel: string;
  event: string;
  data: EventData;
  meta?: EventMeta;
  /** A socket id that must not get the message (Laravel's `toOthers()`, a whisper's sender). */
  except?: string;
}

export interface MessageDraft {
  channel: string;
  event: string;
  data: EventData;
  id: string;
  except?: string;
}

/** Receives every message meant for this node's sockets, in channel order. */
export type MessageSink = (message: ChannelMessage) => void;

/**
 * Gives each message its offset, appends it to the channel's history and hands it to every node,
 * as one step, so offsets and delivery order can never disagree.
 */
export interface Broadcaster {
  /** Durable publish: resolves once the messages are in history and on their way to every node. */
  publish(drafts: MessageDraft[]): Promise<EventMeta[]>;
  /**
   * `publish` under an idempotency key, as one atomic step (one Redis round trip in cluster mode):
   * when `key` was published within the last `ttlS` seconds nothing is published and the first
   * publish's result is answered; otherwise the drafts are published and their result
   * (`{id: key, channels}` with the offsets) is remembered under `key` for `ttlS` seconds.
   * A publish that fails leaves nothing behind: no message, and the key stays free for a retry.
   */
  publishOnce(key: string, ttlS: number, drafts: MessageDraft[]): Promise<PublishOnceOutcome>;
  /** Ephemeral publish (presence events): no offset, no history. */
  signal(message: ChannelMessage): Promise<void>;
  /** Registers the node's delivery to its own sockets. */
  onMessage(sink: MessageSink): void;
  /**
   * Registers what to do when this node may have missed messages published after `sinceMs`
   * (its bus subscription was down): they are in the history, to be replayed to its sockets.
   * `channels` names the channels concerned (those of one shard); absent: every channel.
   */
  onGap(listener: (sinceMs: number, channels?: string[]) => void): void;
}

/**
 * Which channels this node needs the messages of: those it holds a member of. A bus that sends a
 * channel's messages only to the nodes that asked (sharded pub/sub) subscribes on `hold` and
 * unsubscribes some time after `release`; a bus that brings everything ignores both.
 */
export interface ChannelInterest {
  /**
   * The first local member of `channel` joined (a later call for a held channel keeps it held).
   * Resolves once this node gets the channel's messages: at once on a bus that brings everything or
   * for a channel already held; after the subscription is confirmed otherwise. Never rejects: a
   * subscription that fails is a gap, which the bus reports (`Broadcaster.onGap`).
   */
  hold(channel: string): Promise<void>;
  /** The last local member of `channel` left. */
  release(channel: string): void;
}

/** How many sockets a message was written to: straight to TCP, or queued in the transport. */
export interface WriteCounts {
  direct: number;
  queued: number;
}

/**
 * This node's own sockets, as channel delivery sees them (implemented over Socket.IO's rooms, with
 * each dialect's encoding). Socket ids are the Socket.IO ids.
 */
export interface LocalSockets {
  /** The ids of the local sockets in `channel`; read at once, not kept (it may be the live room). */
  members(channel: string): Iterable<string>;
  /** The ids of every local socket (the members of `all`). */
  everyone(): Iterable<string>;
  /** The channels with at least one local member (rooms that are not a socket's own). */
  channels(): Iterable<string>;
  /**
   * Writes `message`, encoded once per dialect, to each of these sockets still connected, but those
   * in `skip` and `message.except`.
   */
  write(socketIds: Iterable<string>, message: ChannelMessage, skip?: ReadonlySet<string>): WriteCounts;
  /** Makes a connected socket a member of `channel`; false when the socket is gone. */
  join(socketId: string, channel: string): boolean;
}

export interface Replay {
  /** False when the gap is older than the history: the client must refetch. */
  recovered: boolean;
  /** What the history still holds after the offset, oldest first (all of the gap when recovered). */
  messages: ChannelMessage[];
}

export interface History {
  since(channel: string, offset: string): Promise<Replay>;
}

/** What a publish under an idempotency key answered, and what a repeat of the key is answered. */
export interface IdempotentResult {
  id: string;
  channels: Array<{ channel: string; offset: string }>;
}

export type PublishOnceOutcome =
  | { duplicate: false; metas: EventMeta[] }
  /**
   * A repeat of a key. `previous` is absent only while the key is claimed by a publish that has
   * not completed, which only a node of an older version (claim, publish, record) can leave behind.
   */
  | { duplicate: true; previous?: IdempotentResult };

export interface RateLimitVerdict {
  allowed: boolean;
  retryAfterS: number;
}

export interface RateLimiter {
  /** Counts one request of `key` against `limit` per second. */
  hit(key: string, limit: number): Promise<RateLimitVerdict>;
}

export interface UserPresence {
  online: boolean;
  connections: number;
  /** Milliseconds since the epoch; null when never seen. */
  lastSeen: number | null;
}

export interface OnlinePage {
  count: number;
  userIds: string[];
  nextCursor: string | null;
}

export interface PresenceStore {
  /**
   * Holds a place for a socket about to connect, unless the user already has `limit` sockets and
   * places, cluster-wide; false then. The place ends when `connect` counts the socket, or at `until`
   * (a handshake that never completed).
   */
  reserve(userId: string, socketId: string, limit: number, now: number, until: number): Promise<boolean>;
  /** Counts a socket; true when the user just came online (not back within the grace). */
  connect(userId: string, socketId: string, now: number): Promise<boolean>;
  /** Uncounts a socket; a user left with none goes offline at `offlineAt` unless a socket returns. */
  disconnect(userId: string, socketId: string, offlineAt: number): Promise<void>;
  /** Users whose grace ran out by `now`, each returned once, cluster-wide. */
  takeExpired(now: number): Promise<string[]>;
  lookup(userIds: string[]): Promise<Map<string, UserPresence>>;
  listOnline(limit: number, cursor: string | null): Promise<OnlinePage>;
}

export interface PresenceTransition {
  id: string;
  event: "user_online" | "user_offline";
  user_id: string;
  at: string;
}

/** Tells Laravel about presence transitions (webhooks); delivery is the notifier's business. */
export interface PresenceNotifier {
  notify(transition: PresenceTransition): void;
  close(): Promise<void>;
}

export type ChannelVerdict = "allowed" | "forbidden" | "unavailable";

/** Decides whether a user (null for guests) may join a channel that is not their own. */
export interface ChannelAuthorizer {
  authorize(userId: string | null, channel: string): Promise<ChannelVerdict>;
}

/** Cluster-wide view of and control over the sockets (implemented over Socket.IO). */
export interface SocketDirectory {
  userIdsIn(channel: string): Promise<string[]>;
  disconnectUser(userId: string): Promise<void>;
}

/** Whether this node can fan out right now, and how durable an accepted broadcast is. */
export interface BackendHealth {
  mode: "embedded" | "redis";
  state(): "ok" | "down";
  /**
   * Whether a broadcast can be accepted now. Narrower than `state()`: a lost bus subscription (one
   * shard failing over) does not stop it, since what this node's sockets miss meanwhile is replayed
   * from history; a publish that cannot be written fails on its own (503, the sender retries).
   */
  acceptsBroadcasts(): boolean;
  /**
   * `replicated`: a replica holds every accepted broadcast; `degraded`: a master that had replicas
   * has none connected (it accepts alone, a crash of it can lose broadcasts); `single`: no replicas.
   * Absent: `single`.
   */
  durability?(): "replicated" | "degraded" | "single";
  /** Masters that had a replica and have none connected now (0 when not degraded). */
  mastersWithoutReplica?(): number;
}

/** A user's membership of one presence channel (Echo), and what leaving it announces. */
export interface ChannelMemberLeft {
  channel: string;
  member: EchoMember;
}

/**
 * Who is in each presence channel (Echo), cluster-wide, counted per user: a user is a member while
 * at least one of their sockets is in the channel, and for a grace period after the last one left.
 * Same shape as PresenceStore, one level down (per channel), with the same node heartbeats.
 */
export interface ChannelMembers {
  /** Counts a socket in; true when the user just became a member (not back within the grace). */
  join(channel: string, member: EchoMember, socketId: string, now: number): Promise<boolean>;
  /** Counts a socket out; a user left with none stops being a member at `leaveAt` unless one returns. */
  leave(channel: string, userId: string, socketId: string, leaveAt: number): Promise<void>;
  /** Memberships whose grace ran out by `now` (also of dead nodes' sockets), each returned once, cluster-wide. */
  takeExpired(now: number): Promise<ChannelMemberLeft[]>;
  /** The channel's members, one per user. */
  list(channel: string): Promise<EchoMember[]>;
}

/** What a socket brings to Laravel's `/broadcasting/auth` for one channel. */
export interface BroadcastAuthRequest {
  userId: string | null;
  channel: string;
  socketId: string;
  /** Echo's `auth.headers` (CSRF token, bearer token) and the handshake's Cookie. */
  headers: Record<string, string>;
}

/** Laravel's answer: the HTTP status (200 admits) and, for presence channels, the member. */
export interface BroadcastAuthAnswer {
  status: number;
  member?: EchoMember;
}

/** Authorizes private-/presence- channels the way Laravel's broadcasters do. */
export interface BroadcastAuthorizer {
  authorize(request: BroadcastAuthRequest): Promise<BroadcastAuthAnswer>;
}

/** Raw messages of Laravel's Redis broadcaster, each handed to exactly one node of the cluster. */
export interface LaravelInbox {
  /** Starts taking messages in; `take` gets the channel without Laravel's prefix and the payload text. */
  start(take: (channel: string, payload: string) => void): Promise<void>;
  stop(): Promise<void>;
}

/** Milliseconds since the epoch: what every decision that depends on time reads. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Cancels what a `Scheduler` call set up. */
export type Cancel = () => void;

/**
 * Runs work later (timers as a port, so tests move time forward instead of waiting for it). A task
 * may return a promise; the system scheduler ignores it, a test's can await it. Its timers never
 * keep the process alive.
 */
export interface Scheduler {
  /** Runs `task` once, `ms` from now. */
  after(ms: number, task: () => unknown): Cancel;
  /** Runs `task` every `ms`. */
  every(ms: number, task: () => unknown): Cancel;
}

export const systemScheduler: Scheduler = {
  after(ms, task) {
    const timer = setTimeout(task, ms).unref();
    return () => clearTimeout(timer);
  },
  every(ms, task) {
    const timer = setInterval(task, ms).unref();
    return () => clearInterval(timer);
  },
};
