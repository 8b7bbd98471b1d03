import { userChannel } from "@mechamap/protocol";
import type { SocketDirectory } from "../core/ports";
import type { RealtimeServer } from "./types";

/** Cluster-wide requests wait this long for the other nodes, then answer with what came. */
const CLUSTER_TIMEOUT_MS = 2000;

/** The cluster's sockets, through the adapter (every node in cluster mode, this one embedded). */
export function createSocketDirectory(io: RealtimeServer): SocketDirectory {
  return {
    async userIdsIn(channel) {
      const sockets = await io.in(channel).timeout(CLUSTER_TIMEOUT_MS).fetchSockets();
      const ids = new Set<string>();
      for (const socket of sockets) if (socket.data.userId) ids.add(socket.data.userId);
      return [...ids].sort();
    },
    async disconnectUser(userId) {
      // A kick: clients see "io server disconnect" and do not come straight back.
      io.in(userChannel(userId)).disconnectSockets(true);
    },
  };
}
