import { io } from "socket.io-client";
import { ALL_CHANNEL, userChannel, type EventData, type PresenceChange } from "@mechamap/protocol";
import { channelOf } from "./channel-ref.js";
import { ACK_TIMEOUT_MS, ChannelSubscriptions, ClientSocket } from "./channel-subscriptions.js";
import { asClientError, RealtimeClientError } from "./client-error.js";
import { EventFilter, isEventMeta } from "./event-filter.js";
import { Listeners } from "./listeners.js";
import { OffsetStore } from "./offset-store.js";
import { watchPageLifecycle } from "./page-lifecycle.js";
import { PresenceWatch } from "./presence-watch.js";
import { resolveStorage } from "./storage.js";
import type { Subscription } from "./subscription.js";
import { TokenSource } from "./token-source.js";
import type { ChannelRef, ClientState, ConnectOptions, EventListener, GapInfo, PresenceListener } from "./types.js";

/**
 * A connection to MechaMap Realtime that makes SPEC 5's recovery automatic: every handshake and every
 * subscribe carries the newest offset handed to the app; events reach the app once, in offset order.
 */
export class RealtimeClient {
  private readonly socket: ClientSocket;
  private readonly listeners = new Listeners();
  private readonly channels: ChannelSubscriptions;
  private readonly offsets: OffsetStore;
  private readonly filter: EventFilter;
  private readonly tokens: TokenSource;
  private readonly presence = new PresenceWatch();
  private current: ClientState = "connecting";
  private tokenExpired = false;
  private renewedAfterRefusal = false;
  /** Set from `pagehide` on: an event the app would get now dies with the page, so it is left for the next one. */
  private leavingPage = false;
  private readonly stopWatchingPage: () => void;

  constructor(options: ConnectOptions) {
    this.tokens = new TokenSource(options.token, options.getToken);
    this.offsets = new OffsetStore(resolveStorage(options.storage));
    this.filter = new EventFilter(this.offsets);
    this.socket = io(options.url, {
      path: options.path ?? "/socket.io",
      ...(options.transports ? { transports: options.transports } : {}),
      autoConnect: false,
      // Leaving the page says goodbye at once: presence starts its grace now, not after a ping timeout.
      closeOnBeforeunload: true,
      // A function: socket.io-client calls it before each (re)connection, so every handshake
      // carries the current token and the newest offsets.
      auth: (send) => void this.handshakeAuth().then(send),
    });
    this.channels = new ChannelSubscriptions(this.socket, this.offsets, this.filter, {
      gap: (channel) => this.listeners.emit("gap", { channel }),
      error: (error) => this.listeners.emit("error", error),
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
    this.socket.on("connect_error", (error) => this.onConnectError(error));
    this.socket.io.on("reconnect_attempt", () => this.setState("connecting"));
    this.socket.on("token_expired", () => void (this.tokenExpired = true));
    this.socket.on("recovery_failed", ({ channel }) => this.listeners.emit("gap", { channel }));
    this.socket.on("user_online", (change: PresenceChange) => this.presence.changed(change.user_id, true, change.at));
    this.socket.on("user_offline", (change: PresenceChange) => this.presence.changed(change.user_id, false, change.at));
    this.socket.onAny((event: string, data: unknown, meta: unknown) => this.onEvent(event, data, meta));
    this.stopWatchingPage = watchPageLifecycle(
      () => {
        this.leavingPage = true;
        this.socket.disconnect();
      },
      () => {
        this.leavingPage = false;
        if (this.current !== "closed") this.socket.connect();
      },
    );
    this.socket.connect();
  }

  get state(): ClientState {
    return this.current;
  }

  /** Events of the user's own channel (and of `to: "all"` broadcasts), and the client's `gap`, `state`, `error`. */
  on(event: "gap", listener: (info: GapInfo) => void): this;
  on(event: "state", listener: (state: ClientState) => void): this;
  on(event: "error", listener: (error: RealtimeClientError) => void): this;
  on(event: string, listener: EventListener): this;
  on(event: string, listener: (...args: never[]) => void): this {
    this.listeners.add(event, listener);
    return this;
  }

  off(event: string, listener?: (...args: never[]) => void): this {
    this.listeners.remove(event, listener);
    return this;
  }

  /** Joins a channel (recovering from its stored offset); rejects with the ack's error `code` when refused. */
  subscribe(ref: ChannelRef): Promise<Subscription> {
    const channel = channelOf(ref);
    if (channel === undefined) return Promise.reject(new RealtimeClientError("invalid", "not a channel"));
    if (this.current === "closed") return Promise.reject(new RealtimeClientError("closed", "the client is closed"));
    return this.channels.subscribe(channel);
  }

  /** Reports `user_online` / `user_offline` of these users to `listener`; resolves with who is online now. */
  async watchPresence(userIds: Array<string | number>, listener: PresenceListener): Promise<{ online: string[] }> {
    const ids = this.presence.add(userIds, listener);
    for (;;) {
      if (this.current === "closed") throw new RealtimeClientError("closed", "the client is closed");
      if (!this.socket.connected) await this.next("connect");
      const heard = this.presence.ask();
      try {
        const answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("presence:watch", { user_ids: ids });
        if (!answer.ok) throw new RealtimeClientError(answer.error, `presence:watch refused: ${answer.error}`);
        this.presence.answered(ids, answer.online, false, heard);
        return { online: ids.filter((id) => this.presence.isOnline(id)) };
      } catch (error) {
        this.presence.answered([], [], false, heard);
        if (error instanceof RealtimeClientError || this.socket.connected) throw asClientError(error);
        // Disconnected before the answer: ask again on the next connection.
      }
    }
  }

  /** Disconnects for good; stored offsets stay for the next page. */
  close(): void {
    this.tokens.stopRenewing();
    this.stopWatchingPage();
    this.setState("closed");
    this.socket.disconnect();
    this.channels.closeAll();
  }

  private async handshakeAuth(): Promise<Record<string, unknown>> {
    let token: string | undefined;
    try {
      token = await this.tokens.current();
    } catch (error) {
      this.listeners.emit("error", new RealtimeClientError("token_missing", `getToken() failed: ${String(error)}`));
    }
    this.offsets.useScope(this.tokens.userId);
    const since: Record<string, string> = {};
    for (const channel of this.ownChannels()) {
      const offset = this.offsets.get(channel);
      if (offset !== undefined) since[channel] = offset;
    }
    return token === undefined ? { since } : { token, since };
  }

  private ownChannels(): string[] {
    const userId = this.tokens.userId;
    return userId === undefined ? [ALL_CHANNEL] : [userChannel(userId), ALL_CHANNEL];
  }

  private onConnect(): void {
    this.renewedAfterRefusal = false;
    this.setState("connected");
    this.channels.joinAll();
    if (this.presence.watched.length > 0) void this.rewatch();
    this.tokens.renewBeforeExpiry(
      async (token) => {
        if (!this.socket.connected) return; // the next handshake carries it
        const answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("auth:refresh", { token });
        if (!answer.ok) throw new RealtimeClientError(answer.error, `auth:refresh refused: ${answer.error}`);
      },
      (error) => this.listeners.emit("error", asClientError(error)),
    );
  }

  private onDisconnect(reason: string): void {
    this.tokens.stopRenewing();
    if (this.current === "closed") return;
    this.setState("disconnected");
    // The server ends an expired socket itself ("io server disconnect"), which socket.io-client
    // does not undo: come back with a new token when we can get one.
    if (reason === "io server disconnect" && this.tokenExpired && this.tokens.canRenew) {
      this.tokenExpired = false;
      this.tokens.discard();
      this.setState("connecting");
      this.socket.connect();
    }
  }

  private onConnectError(error: Error & { data?: { code?: string } }): void {
    if (this.current === "closed") return;
    const code = error.data?.code ?? "connect_error";
    // A refused token is retried once with a fresh one; transport errors are socket.io-client's to retry.
    if (!this.socket.active && code.startsWith("token_") && this.tokens.canRenew && !this.renewedAfterRefusal) {
      this.renewedAfterRefusal = true;
      this.tokens.discard();
      this.socket.connect();
      return;
    }
    if (!this.socket.active) {
      this.setState("disconnected");
      this.listeners.emit("error", new RealtimeClientError(code, error.message));
    }
  }

  private onEvent(event: string, data: unknown, meta: unknown): void {
    if (!isEventMeta(meta) || this.leavingPage) return; // presence and control events have handlers of their own
    const subscription = this.channels.get(meta.channel);
    const own = this.ownChannels().includes(meta.channel);
    if (!subscription && !own) return;
    if (!this.filter.accept(meta)) return;
    if (subscription) subscription.deliver(event, data as EventData, meta);
    else this.listeners.emit(event, data, meta);
  }

  private async rewatch(): Promise<void> {
    const ids = this.presence.watched;
    const heard = this.presence.ask();
    try {
      const answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck("presence:watch", { user_ids: ids });
      if (answer.ok) this.presence.answered(ids, answer.online, true, heard);
      else this.presence.answered([], [], true, heard);
    } catch {
      this.presence.answered([], [], false, heard);
      // Disconnected again: the next connection watches again.
    }
  }

  private next(event: "connect"): Promise<void> {
    return new Promise((resolve) => this.socket.once(event, () => resolve()));
  }

  private setState(state: ClientState): void {
    if (state === this.current) return;
    this.current = state;
    this.listeners.emit("state", state);
  }
}
