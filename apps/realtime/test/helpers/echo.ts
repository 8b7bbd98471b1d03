import Echo from "laravel-echo";
import { io, Socket } from "socket.io-client";

export type EchoClient = Echo<"socket.io">;

const clients = new Set<EchoClient>();

afterEach(() => {
  for (const echo of clients) echo.disconnect();
  clients.clear();
});

export interface EchoClientOptions {
  token?: string;
  /** Sent as the handshake's Cookie header (a browser sends the site's cookies). */
  cookie?: string;
  csrfToken?: string;
  /** socket.io-client's own reconnection (off by default in tests). */
  reconnection?: boolean;
}

/**
 * A real `laravel-echo` 2.x with socket.io-client 4, configured the way a Laravel frontend does
 * (`broadcaster: 'socket.io'`, `bearerToken`), connected over WebSocket. Disconnected after the test.
 */
export async function echoClient(url: string, options: EchoClientOptions = {}): Promise<EchoClient> {
  const echo = new Echo<"socket.io">({
    broadcaster: "socket.io",
    host: url,
    client: io,
    transports: ["websocket"],
    reconnection: options.reconnection ?? false,
    reconnectionDelay: 50,
    forceNew: true,
    withoutInterceptors: true,
    // Echo's default `auth` object is shared by every Echo of a process, and `bearerToken` writes into
    // it: one per client, as each browser tab has its own.
    auth: { headers: {} },
    ...(options.token ? { bearerToken: options.token } : {}),
    ...(options.csrfToken ? { csrfToken: options.csrfToken } : {}),
    ...(options.cookie ? { extraHeaders: { Cookie: options.cookie } } : {}),
  });
  clients.add(echo);
  const socket = echoSocket(echo);
  await new Promise<void>((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  return echo;
}

/** The socket.io-client socket under an Echo. */
export function echoSocket(echo: EchoClient): Socket {
  return (echo.connector as unknown as { socket: Socket }).socket;
}

/** Everything a channel listener got, in order. */
export function collect<T = Record<string, unknown>>(): { got: T[]; push: (value: T) => void } {
  const got: T[] = [];
  return { got, push: (value: T) => void got.push(value) };
}
