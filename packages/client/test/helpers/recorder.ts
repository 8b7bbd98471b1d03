import type { EventData, EventMeta } from "@mechamap/protocol";
import { connect, RealtimeClient } from "../../src/index.js";
import type { ConnectOptions, GapInfo, ClientState } from "../../src/index.js";

export interface Handed {
  event: string;
  data: EventData;
  meta: EventMeta;
}

export interface Recorded {
  client: RealtimeClient;
  /** Events handed to the app (user channel and subscriptions), in order. */
  events: Handed[];
  gaps: GapInfo[];
  states: ClientState[];
}

const clients = new Set<RealtimeClient>();
afterEach(() => {
  for (const client of clients) client.close();
  clients.clear();
});

/** A client of the package (socket.io-client in Node), recording what it hands to the app; closed after the test. */
export function recordedClient(options: ConnectOptions, events: string[] = ["notification"]): Recorded {
  const client = connect({ transports: ["websocket"], ...options });
  clients.add(client);
  const recorded: Recorded = { client, events: [], gaps: [], states: [] };
  for (const event of events) client.on(event, (data, meta) => recorded.events.push({ event, data, meta }));
  client.on("gap", (gap) => recorded.gaps.push(gap));
  client.on("state", (state) => recorded.states.push(state));
  return recorded;
}

/** Subscribes and records the subscription's `event`s into `recorded.events`. */
export async function subscribeRecorded(recorded: Recorded, threadId: number, event = "new_reply"): Promise<void> {
  const subscription = await recorded.client.subscribe({ thread_id: threadId });
  subscription.on(event, (data, meta) => recorded.events.push({ event, data, meta }));
}

export const numbers = (events: Handed[]): unknown[] => events.map((e) => e.data.i);
