import jwt from "jsonwebtoken";
import { connect as tcpConnect } from "node:net";
import { io, ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import { httpRequest, ProbeResponse } from "../src/http-probe";

/** True once no process has this pid (a reaped child) — or, with `group`, none is left in its group. */
export function gone(pid: number, { group = false } = {}): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export function get(url: string, headers: Record<string, string> = {}): Promise<ProbeResponse> {
  return httpRequest(url, { headers });
}

export function tokenFor(secret: string, userId: string | number): string {
  return jwt.sign({ sub: userId }, secret, { algorithm: "HS256", expiresIn: 300 });
}

/**
 * A stock socket.io-client without reconnection, resolved once connected; rejected with the
 * connect_error, or with the close reason when the transport fails before the handshake completes.
 */
export function connectSocket(url: string, options: Partial<ManagerOptions & SocketOptions>): Promise<Socket> {
  const socket = io(url, { reconnection: false, forceNew: true, timeout: 5000, ...options });
  return new Promise((resolve, reject) => {
    const fail = (reason: unknown): void => {
      // The first failure is the cause; closing below reports another ("forced close").
      reject(reason instanceof Error ? reason : new Error(String(reason)));
      socket.close();
    };
    const engine = socket.io.engine;
    socket.once("connect", () => {
      // From here on a close is the test's business (a drain, a kill), not a failed connect.
      socket.off("connect_error", fail);
      engine?.off("close", fail);
      socket.io.off("close", fail);
      resolve(socket);
    });
    socket.once("connect_error", fail);
    engine?.once("close", fail);
    socket.io.once("close", fail);
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
