import { ClientPool } from "../load/client-pool";
import { createSender, Sender } from "../load/ingress-sender";
import type { RunningTarget } from "../targets/target";
import { CHANNEL } from "./fanout";
import type { RunContext } from "./scenario";

export interface RoomLoad {
  subscribers: number;
  workers: number;
  /** `native`: each target's usual way in (Redis for echo); `http`: everyone over HTTP. */
  ingress: "native" | "http";
}

export interface ConnectedRoom {
  pool: ClientPool;
  sender: Sender;
  close(): Promise<void>;
}

/**
 * S1's set-up, once per run (knee, overload): `subscribers` clients in the one room, spread over the
 * load workers, and a publisher on the target's way in. The caller closes it.
 */
export async function connectRoom(target: RunningTarget, load: RoomLoad, context: RunContext): Promise<ConnectedRoom> {
  const pool = ClientPool.start(
    { url: target.url, protocol: target.protocol, channel: CHANNEL, auth: target.auth },
    load.workers,
    context.cpuProfileDir,
  );
  const close = async (sender?: Sender): Promise<void> => {
    await sender?.close();
    await pool.close();
  };
  let sender: Sender | undefined;
  try {
    sender = await createSender(load.ingress === "http" ? target.httpIngress : target.ingress);
    await pool.connect(load.subscribers, 30_000);
    await target.waitForSubscribers(CHANNEL, load.subscribers, 15_000);
    const opened = sender;
    return { pool, sender: opened, close: () => close(opened) };
  } catch (error) {
    await close(sender);
    throw error;
  }
}

/**
 * Pending publishes the knee and overload publishers allow (sent, or queued behind the HTTP agent's
 * 64 sockets) before an event due is not sent at all: ~3 s of the default overload rate. Bounds the
 * publisher's memory when the server stops answering.
 */
export const MAX_PENDING_PUBLISHES = 1000;
