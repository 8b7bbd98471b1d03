/**
 * S5's deterministic layout: which nodes hold each room's members, where each client connects, which
 * room each event goes to and which node it is posted to. Pure functions, so a test can check them.
 */
export interface RoomLayout {
  rooms: number;
  /** Subscribers per room. */
  roomSize: number;
  nodes: number;
  /**
   * The last `idleNodes` nodes hold no member of any room and are posted nothing: what they read
   * from Redis is what a node pays for rooms it does not hold. Default 0.
   */
  idleNodes?: number;
}

/** Nodes holding members (the first ones): all but the idle ones, at least one. */
export const activeNodes = (layout: RoomLayout): number =>
  Math.max(1, Math.floor(layout.nodes) - Math.max(0, Math.floor(layout.idleNodes ?? 0)));

/** The channel of room r: `bench.r<r>` (ours' grammar `<type>.<name>`, public with CHANNEL_AUTH=none). */
export const roomChannel = (room: number): string => `bench.r${room}`;

/**
 * Nodes (0-based) holding room r's members: node r mod N, and for odd r (half the rooms) also node
 * (r + 1) mod N. With one node, node 0.
 */
export function roomNodes(room: number, nodes: number): number[] {
  if (nodes <= 1) return [0];
  const home = room % nodes;
  return room % 2 === 1 ? [home, (home + 1) % nodes] : [home];
}

/** The node member m of room r connects to: the room's nodes taken in turn. */
export function memberNode(room: number, member: number, nodes: number): number {
  const held = roomNodes(room, nodes);
  return held[member % held.length];
}

/** Every client of the run, room by room: its room and its node (never an idle one). */
export function clientPlacements(layout: RoomLayout): Array<{ room: number; node: number }> {
  const clients: Array<{ room: number; node: number }> = [];
  const active = activeNodes(layout);
  for (let room = 0; room < layout.rooms; room++) {
    for (let member = 0; member < layout.roomSize; member++) {
      clients.push({ room, node: memberNode(room, member, active) });
    }
  }
  return clients;
}

/** Event i goes to room i mod rooms: round-robin, so every room gets the same share. */
export const roomOfEvent = (event: number, rooms: number): number => event % rooms;

/**
 * The node event i is posted to: a non-idle one holding none of its room's members, taken in turn
 * over the room's successive events (so every delivery crosses Redis); where every non-idle node holds
 * members (2 nodes, or 3 with one idle, a room on both), those nodes in turn. Idle nodes are never
 * posted to: a publisher reads its own replies from Redis, which would blur what they measure.
 */
export function ingressNode(event: number, layout: RoomLayout): number {
  const room = roomOfEvent(event, layout.rooms);
  const active = activeNodes(layout);
  const held = roomNodes(room, active);
  const without = Array.from({ length: active }, (_, node) => node).filter((node) => !held.includes(node));
  const choices = without.length > 0 ? without : held;
  return choices[Math.floor(event / layout.rooms) % choices.length];
}

/** Members of room r on each node. */
export function membersPerNode(room: number, layout: RoomLayout): number[] {
  const counts = new Array<number>(Math.max(1, layout.nodes)).fill(0);
  const active = activeNodes(layout);
  for (let member = 0; member < layout.roomSize; member++) counts[memberNode(room, member, active)]++;
  return counts;
}

/**
 * For the events `indexes`: the deliveries each node owes (its members of the event's room), how many
 * events each node gets from Redis for a room it holds no member of, and how many events were posted to
 * a node without members of their room.
 */
export function layoutTally(
  indexes: Iterable<number>,
  layout: RoomLayout,
): { events: number; deliveriesPerNode: number[]; withoutMembersPerNode: number[]; crossNode: number } {
  const nodes = Math.max(1, layout.nodes);
  const deliveriesPerNode = new Array<number>(nodes).fill(0);
  const withoutMembersPerNode = new Array<number>(nodes).fill(0);
  let events = 0;
  let crossNode = 0;
  for (const i of indexes) {
    events++;
    const members = membersPerNode(roomOfEvent(i, layout.rooms), layout);
    members.forEach((count, node) => {
      deliveriesPerNode[node] += count;
      if (count === 0) withoutMembersPerNode[node]++;
    });
    if (members[ingressNode(i, layout)] === 0) crossNode++;
  }
  return { events, deliveriesPerNode, withoutMembersPerNode, crossNode };
}
