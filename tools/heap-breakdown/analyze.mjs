/**
 * Per-connection heap breakdown from two V8 heap snapshots of the same node, taken with N and N + added
 * idle connections: (size in the second − size in the first) / added, for
 *
 * - every kind of object (constructor name; plain objects by their first keys, closures by name), by
 *   self size: what each connection allocates;
 * - every owner (ws WebSocket, Receiver, Sender, net.Socket, Engine.IO Socket and transport, Socket.IO
 *   Socket and Client, the adapter, ...), by what it alone keeps alive (the V8 dominator tree: an object
 *   counts for the nearest owner that every path from the roots to it goes through), split by the
 *   field that holds it.
 *
 * Objects that several owners reach (the TCP socket, the WebSocket, the Engine.IO socket hold each
 * other) are each their own owner; what no single owner dominates is "(roots)".
 *
 * Usage: node --max-old-space-size=8192 analyze.mjs first.heapsnapshot second.heapsnapshot added [minBytes]
 */
import { readFileSync } from "node:fs";

/** Kinds of object that own what they alone keep alive. `classify` names them. */
const OWNERS = new Set([
  "net.Socket",
  "ws WebSocket",
  "ws Receiver",
  "ws Sender",
  "engine.io Socket",
  "engine.io WebSocket transport",
  "engine.io Polling transport",
  "socket.io Socket",
  "socket.io Client",
  "socket.io Namespace",
  "socket.io Adapter",
  "engine.io Server",
  "socket.io Server",
  "Node TCPWrap",
  "ours LocalDelivery",
  "ours TokenExpiry",
]);

export function loadSnapshot(path) {
  const raw = JSON.parse(readFileSync(path, "utf8"));
  const meta = raw.snapshot.meta;
  const nodeFieldCount = meta.node_fields.length;
  const edgeFieldCount = meta.edge_fields.length;
  const nodes = Int32Array.from(raw.nodes);
  const edges = Int32Array.from(raw.edges);
  const snapshot = {
    strings: raw.strings,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodeFieldCount,
    edgeFieldCount,
    nodes,
    edges,
    count: nodes.length / nodeFieldCount,
    typeAt: meta.node_fields.indexOf("type"),
    nameAt: meta.node_fields.indexOf("name"),
    sizeAt: meta.node_fields.indexOf("self_size"),
    edgeCountAt: meta.node_fields.indexOf("edge_count"),
    edgeTypeAt: meta.edge_fields.indexOf("type"),
    edgeNameAt: meta.edge_fields.indexOf("name_or_index"),
    edgeToAt: meta.edge_fields.indexOf("to_node"),
  };
  // First edge of every node (edges are stored node after node).
  const firstEdge = new Int32Array(snapshot.count + 1);
  for (let node = 0, edge = 0; node < snapshot.count; node++) {
    firstEdge[node] = edge;
    edge += nodes[node * nodeFieldCount + snapshot.edgeCountAt] * edgeFieldCount;
  }
  firstEdge[snapshot.count] = edges.length;
  snapshot.firstEdge = firstEdge;
  return snapshot;
}

const nodeType = (s, node) => s.nodeTypes[s.nodes[node * s.nodeFieldCount + s.typeAt]];
const nodeName = (s, node) => s.strings[s.nodes[node * s.nodeFieldCount + s.nameAt]];
const selfSize = (s, node) => s.nodes[node * s.nodeFieldCount + s.sizeAt];

function* edgesOf(s, node) {
  for (let edge = s.firstEdge[node]; edge < s.firstEdge[node + 1]; edge += s.edgeFieldCount) {
    const type = s.edgeTypes[s.edges[edge + s.edgeTypeAt]];
    const nameOrIndex = s.edges[edge + s.edgeNameAt];
    const name = type === "element" || type === "hidden" ? `[${nameOrIndex}]` : s.strings[nameOrIndex];
    yield { type, name, to: s.edges[edge + s.edgeToAt] / s.nodeFieldCount };
  }
}

function propertyNames(s, node) {
  const names = [];
  for (const edge of edgesOf(s, node)) if (edge.type === "property") names.push(edge.name);
  return names;
}

/** A readable kind for a node: library classes told apart by their fields (several are called Socket). */
export function classify(s, node) {
  const type = nodeType(s, node);
  const name = nodeName(s, node);
  switch (type) {
    case "object": {
      const keys = propertyNames(s, node);
      const has = (key) => keys.includes(key);
      if (name === "Socket" && has("nsp") && has("client")) return "socket.io Socket";
      if (name === "Socket" && has("writeBuffer") && has("transport")) return "engine.io Socket";
      if (name === "Socket" && has("_handle")) return "net.Socket";
      if (name === "WebSocket" && has("_receiver")) return "ws WebSocket";
      if (name === "WebSocket" && has("socket") && has("writable")) return "engine.io WebSocket transport";
      if ((name === "Polling" || name === "XHR" || name === "JSONP") && has("writable"))
        return "engine.io Polling transport";
      if (name === "Receiver" && has("_bufferedBytes")) return "ws Receiver";
      if (name === "Sender" && has("_queue")) return "ws Sender";
      if (name === "Client" && has("conn") && has("sockets")) return "socket.io Client";
      if (name === "Namespace" && has("adapter")) return "socket.io Namespace";
      if (/Adapter$/.test(name) && has("rooms") && has("sids")) return "socket.io Adapter";
      if (name === "Server" && has("clients") && has("clientsCount")) return "engine.io Server";
      if (name === "Server" && has("_nsps")) return "socket.io Server";
      if (name === "LocalDelivery") return "ours LocalDelivery";
      if (name === "TokenExpiry") return "ours TokenExpiry";
      if (name === "Object") {
        const shown = keys.filter((key) => key !== "__proto__").slice(0, 4);
        return `Object{${shown.join(",")}${keys.length > shown.length ? ",…" : ""}}`;
      }
      return name;
    }
    case "closure":
      return `closure ${name || "(anonymous)"}`;
    case "string":
    case "concatenated string":
    case "sliced string":
      return "(string)";
    case "native":
      return name.startsWith("Node / ") ? `Node ${name.slice(7)}` : `native ${name}`;
    case "number":
      return "(heap number)";
    case "code":
      return "(code)";
    case "object shape":
      return "(object shape)";
    default:
      // hidden, array, synthetic: V8 names them, e.g. "system / Context", "(object elements)"; the
      // unnamed arrays are the hash tables of Maps and Sets.
      return name || (type === "array" ? "(Map/Set table)" : `(${type})`);
  }
}

/**
 * Immediate dominators (Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm"), ignoring
 * weak edges as DevTools does. Returns -1 for nodes the roots do not reach.
 */
export function dominators(s) {
  const count = s.count;
  const order = new Int32Array(count).fill(-1); // post-order number
  const byOrder = new Int32Array(count);
  const predecessorCount = new Int32Array(count + 1);
  const strong = (edge) => {
    const type = s.edgeTypes[s.edges[edge + s.edgeTypeAt]];
    return type !== "weak" && type !== "shortcut";
  };
  const target = (edge) => s.edges[edge + s.edgeToAt] / s.nodeFieldCount;
  // Iterative depth-first search from the root (node 0).
  const stack = new Int32Array(count);
  const nextEdge = new Int32Array(count);
  const visited = new Uint8Array(count);
  let top = 0;
  let postorder = 0;
  stack[0] = 0;
  visited[0] = 1;
  nextEdge[0] = s.firstEdge[0];
  while (top >= 0) {
    const node = stack[top];
    const edge = nextEdge[node];
    if (edge < s.firstEdge[node + 1]) {
      nextEdge[node] = edge + s.edgeFieldCount;
      if (!strong(edge)) continue;
      const to = target(edge);
      predecessorCount[to]++;
      if (!visited[to]) {
        visited[to] = 1;
        nextEdge[to] = s.firstEdge[to];
        stack[++top] = to;
      }
    } else {
      order[node] = postorder;
      byOrder[postorder++] = node;
      top--;
    }
  }
  // Predecessors of reached nodes, in one flat array.
  const predecessorStart = new Int32Array(count + 1);
  for (let node = 0; node < count; node++) predecessorStart[node + 1] = predecessorStart[node] + predecessorCount[node];
  const predecessors = new Int32Array(predecessorStart[count]);
  const fill = predecessorStart.slice(0, count);
  for (let node = 0; node < count; node++) {
    if (!visited[node]) continue;
    for (let edge = s.firstEdge[node]; edge < s.firstEdge[node + 1]; edge += s.edgeFieldCount) {
      if (strong(edge)) predecessors[fill[target(edge)]++] = node;
    }
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a, b) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a];
      while (order[b] < order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let index = postorder - 2; index >= 0; index--) {
      const node = byOrder[index];
      let candidate = -1;
      for (let p = predecessorStart[node]; p < predecessorStart[node + 1]; p++) {
        const predecessor = predecessors[p];
        if (idom[predecessor] === -1) continue;
        candidate = candidate === -1 ? predecessor : intersect(predecessor, candidate);
      }
      if (candidate !== -1 && idom[node] !== candidate) {
        idom[node] = candidate;
        changed = true;
      }
    }
  }
  return { idom, byOrder, reached: postorder };
}

/**
 * Sizes by kind (self size) and by owner and item (an owner's field, for what the owner alone keeps
 * alive through it). Returns Maps of key → {bytes, count}.
 */
export function breakdown(s) {
  const labels = new Array(s.count);
  for (let node = 0; node < s.count; node++) labels[node] = classify(s, node);
  const byKind = new Map();
  const add = (map, key, bytes) => {
    const entry = map.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count += 1;
    map.set(key, entry);
  };
  const { idom, byOrder, reached } = dominators(s);
  const owner = new Int32Array(s.count).fill(0); // 0: the roots
  const item = new Int32Array(s.count).fill(-1);
  const byOwner = new Map();
  // Reverse post-order visits a node's dominator before the node.
  for (let index = reached - 1; index >= 0; index--) {
    const node = byOrder[index];
    add(byKind, labels[node], selfSize(s, node));
    if (node === 0) continue;
    const parent = idom[node];
    if (parent !== 0 && OWNERS.has(labels[parent])) {
      owner[node] = parent;
      item[node] = node;
    } else {
      owner[node] = owner[parent];
      item[node] = item[parent];
    }
    let key;
    if (OWNERS.has(labels[node])) {
      key = `${labels[node]} ▸ (itself)`;
    } else {
      const holder = owner[node];
      const top = item[node];
      const field = holder === 0 ? undefined : fieldName(s, holder, top);
      const ownerLabel = holder === 0 ? "(roots)" : labels[holder];
      key = `${ownerLabel} ▸ ${field ? `.${field} ` : ""}${labels[top === -1 ? node : top]}`;
    }
    add(byOwner, key, selfSize(s, node));
  }
  return { byKind, byOwner };
}

function fieldName(s, from, to) {
  for (const edge of edgesOf(s, from)) {
    if (edge.to === to && edge.type !== "weak") return edge.type === "element" ? "[]" : edge.name;
  }
  return undefined;
}

/** (second − first) / added for every key, largest first, down to minBytes per connection. */
export function diff(first, second, added, minBytes) {
  const keys = new Set([...first.keys(), ...second.keys()]);
  const rows = [];
  for (const key of keys) {
    const a = first.get(key) ?? { bytes: 0, count: 0 };
    const b = second.get(key) ?? { bytes: 0, count: 0 };
    const bytes = (b.bytes - a.bytes) / added;
    const count = (b.count - a.count) / added;
    if (Math.abs(bytes) >= minBytes) rows.push({ key, bytes, count });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  return rows;
}

export function table(title, rows, total) {
  const lines = [`${title}`, "", "| bytes/conn | objects/conn | what |", "|---:|---:|---|"];
  for (const row of rows) lines.push(`| ${row.bytes.toFixed(0)} | ${row.count.toFixed(2)} | ${row.key} |`);
  const shown = rows.reduce((sum, row) => sum + row.bytes, 0);
  lines.push(`| ${shown.toFixed(0)} | | shown rows (all rows: ${total.toFixed(0)}) |`);
  return lines.join("\n");
}

/** Both snapshots → the two tables, as markdown. */
export function analyze(firstPath, secondPath, added, minBytes = 8) {
  const first = breakdown(loadSnapshot(firstPath));
  const second = breakdown(loadSnapshot(secondPath));
  const kinds = diff(first.byKind, second.byKind, added, minBytes);
  const owners = diff(first.byOwner, second.byOwner, added, minBytes);
  const total = diff(first.byKind, second.byKind, added, 0).reduce((sum, row) => sum + row.bytes, 0);
  return [
    `Heap per added connection (V8 self sizes, ${added} connections added): ${total.toFixed(0)} B`,
    "",
    table("By kind of object", kinds, total),
    "",
    table("By owner ▸ field (what the owner alone keeps alive through that field)", owners, total),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [firstPath, secondPath, added, minBytes] = process.argv.slice(2);
  if (!firstPath || !secondPath || !added) {
    console.error("usage: analyze.mjs first.heapsnapshot second.heapsnapshot added [minBytes]");
    process.exit(2);
  }
  console.log(analyze(firstPath, secondPath, Number(added), minBytes === undefined ? 8 : Number(minBytes)));
}
