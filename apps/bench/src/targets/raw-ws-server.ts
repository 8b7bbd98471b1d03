/**
 * The machine's limit: plain `ws`, each broadcast framed once and the same bytes written to every
 * socket of the room. Sends exactly what socket.io would (`42["event",data,meta]`) so the clients
 * and the payload are the same as for the Socket.IO targets. No auth, no heartbeat: nothing but
 * the fan-out. Run as a program: PORT, API_KEY.
 */
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { announceListening, broadcastEndpoint, requiredEnv } from "./server-kit";

/** ws's frame builder is public on the module but missing from @types/ws. */
interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const TEXT_FRAME: FrameOptions = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false };

const rooms = new Map<string, Set<WebSocket>>();

const httpServer = createServer(
  broadcastEndpoint(requiredEnv("API_KEY"), (broadcast, meta) => {
    const packet = `42${JSON.stringify([broadcast.event, broadcast.data, meta])}`;
    const frame = Buffer.concat(Sender.frame(Buffer.from(packet), TEXT_FRAME));
    // ws keeps the TCP socket in `_socket`; writing it directly is the "framed once" path.
    for (const socket of rooms.get(broadcast.channel) ?? []) {
      (socket as unknown as { _socket: Socket })._socket.write(frame);
    }
  }),
);

const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false });

// The room comes with the upgrade (`?channel=`): joined before the client sees `open`.
wss.on("connection", (socket, req) => {
  const channel = new URL(req.url ?? "/", "http://localhost").searchParams.get("channel");
  if (!channel) return socket.close(1008, "channel required");
  const room = rooms.get(channel) ?? new Set<WebSocket>();
  room.add(socket);
  rooms.set(channel, room);
  socket.once("close", () => {
    room.delete(socket);
    if (room.size === 0) rooms.delete(channel);
  });
});

process.once("SIGTERM", () => {
  for (const socket of wss.clients) socket.terminate();
  process.exit(0);
});

httpServer.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  announceListening((httpServer.address() as AddressInfo).port);
});
