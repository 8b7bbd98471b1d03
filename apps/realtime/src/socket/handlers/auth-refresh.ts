import { AckError, SocketContext } from "../context";
import type { RealtimeSocket } from "../types";

/** `auth:refresh {token}` → `{ok:true}`: a new token of the same user pushes the expiry back. */
export async function authRefresh(context: SocketContext, socket: RealtimeSocket, request: unknown) {
  const token = (request as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || socket.data.userId === null) throw new AckError("invalid");
  const verdict = context.verifier.verify(token.replace(/^Bearer\s+/i, ""));
  if (!verdict.ok) throw new AckError("invalid");
  if (verdict.token.userId !== socket.data.userId) throw new AckError("forbidden");
  socket.data.expiresAt = verdict.token.expiresAt;
  context.expiry.schedule(socket);
  return {};
}
