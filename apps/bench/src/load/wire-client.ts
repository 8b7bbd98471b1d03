import { connectRawWebSocket, RawWebSocket } from "./raw-websocket";
import type { ClientSpec } from "./worker-messages";

export interface WireClientEvents {
  /** Subscribed (acked for EIO4; sent for EIO3, confirmed by the harness; at `open` for ws). */
  onReady(): void;
  onFail(reason: string): void;
  /** A broadcast packet, `42[...]`, still as text. */
  onEvent(packet: string): void;
  onClose(): void;
}

/**
 * The cheap load client: a raw WebSocket (raw-websocket.ts) speaking just enough Engine.IO / Socket.IO — open, ping/pong,
 * CONNECT with auth, subscribe, and event packets — and no JSON parsing on the hot path.
 * See https://socket.io/docs/v4/engine-io-protocol/ and /socket-io-protocol/.
 */
export function openWireClient(spec: ClientSpec, token: string | undefined, events: WireClientEvents): RawWebSocket {
  const subscribe = `["subscribe",${JSON.stringify({ channel: spec.channel })}]`;
  // Each client reports exactly one of onReady/onFail, and onClose only after onReady.
  let state: "connecting" | "ready" | "done" = "connecting";
  let pingTimer: NodeJS.Timeout | undefined;
  const fail = (reason: string): void => {
    if (state === "connecting") events.onFail(reason);
    state = "done";
    socket.close();
  };
  const becomeReady = (): void => {
    if (state !== "connecting") return;
    state = "ready";
    events.onReady();
  };

  const socket = connectRawWebSocket(urlFor(spec), {
    onOpen: () => {
      if (spec.protocol === "ws") becomeReady();
    },
    onMessage: (packet) => {
      // "42": an EVENT in a MESSAGE — the hot path, first.
      if (packet.charCodeAt(0) === 52 && packet.charCodeAt(1) === 50) return events.onEvent(packet);
      if (spec.protocol === "eio4") return onEio4Control(packet);
      if (spec.protocol === "eio3") return onEio3Control(packet);
    },
    onClose: (reason) => {
      clearInterval(pingTimer);
      if (state === "ready") events.onClose();
      else if (state === "connecting") events.onFail(reason);
      state = "done";
    },
  });

  function onEio4Control(packet: string): void {
    if (packet === "2") return socket.send("3"); // the v4 server pings, the client pongs
    if (packet.startsWith("0")) return socket.send(`40${JSON.stringify(token ? { token } : {})}`);
    if (packet.startsWith("40")) return socket.send(`420${subscribe}`); // ack id 0
    if (packet.startsWith("430")) {
      const [answer] = JSON.parse(packet.slice(3)) as [{ ok?: boolean; error?: string }];
      return answer?.ok ? becomeReady() : fail(`subscribe refused: ${answer?.error ?? packet}`);
    }
    if (packet.startsWith("44")) return fail(`connect_error ${packet.slice(2)}`);
  }

  function onEio3Control(packet: string): void {
    if (packet.startsWith("0")) {
      // In v3 the client pings (every pingInterval) and the server pongs.
      const { pingInterval } = JSON.parse(packet.slice(1)) as { pingInterval?: number };
      pingTimer = setInterval(() => socket.send("2"), pingInterval ?? 25_000);
      pingTimer.unref();
      return;
    }
    if (packet === "40") {
      socket.send(`42${subscribe}`); // no ack in echo: the harness asks its API instead
      return becomeReady();
    }
    if (packet.startsWith("44")) return fail(`connect_error ${packet.slice(2)}`);
  }

  return socket;
}

function urlFor(spec: ClientSpec): string {
  if (spec.protocol === "ws") return `${spec.url}?channel=${encodeURIComponent(spec.channel)}`;
  return `${spec.url}?EIO=${spec.protocol === "eio4" ? 4 : 3}&transport=websocket`;
}
