import { createServer, connect, Server, Socket } from "node:net";

/**
 * A TCP proxy in front of a real Redis, for one client connection, that can hold back Redis's
 * replies and let them through one by one: the test decides when the client hears what, so a
 * reply's arrival between two of the client's calls is a step of the test, not timing luck.
 * Commands always go through at once (Redis runs them in the order they arrive).
 */
export interface RedisReplyGate {
  url: string;
  /** Complete replies held back so far. */
  held(): string[];
  /** Complete commands the client has sent so far. */
  commandsSent(): number;
  /** From now on, replies are held back until released. */
  hold(): void;
  /** Lets the first `count` held replies through. */
  release(count: number): void;
  /** Lets every held reply through, and the ones to come. */
  releaseAll(): void;
  /** Resolves once `predicate` holds, checked whenever bytes pass (no polling). */
  when(predicate: () => boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startRedisReplyGate(redisPort: number): Promise<RedisReplyGate> {
  let holding = false;
  let replies = Buffer.alloc(0);
  let commands = Buffer.alloc(0);
  let commandCount = 0;
  let client: Socket | undefined;
  const upstreams: Socket[] = [];
  const waiters = new Set<{ predicate: () => boolean; resolve: () => void }>();
  const check = (): void => {
    for (const waiter of waiters) {
      if (waiter.predicate()) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const flush = (count: number): void => {
    let end = 0;
    for (let i = 0; i < count; i++) {
      const next = replyEnd(replies, end);
      if (next < 0) throw new Error(`only ${i} complete replies held, ${count} asked`);
      end = next;
    }
    client?.write(replies.subarray(0, end));
    replies = replies.subarray(end);
  };
  const server: Server = createServer((socket) => {
    if (client) {
      socket.destroy();
      return;
    }
    client = socket;
    const upstream = connect(redisPort, "127.0.0.1");
    upstreams.push(upstream);
    socket.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      commands = Buffer.concat([commands, chunk]);
      for (let end = replyEnd(commands, 0); end >= 0; end = replyEnd(commands, 0)) {
        commands = commands.subarray(end);
        commandCount++;
      }
      check();
    });
    upstream.on("data", (chunk: Buffer) => {
      if (holding) replies = Buffer.concat([replies, chunk]);
      else socket.write(chunk);
      check();
    });
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.on("error", () => undefined);
    upstream.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    held() {
      const found: string[] = [];
      for (let start = 0, end = replyEnd(replies, 0); end >= 0; start = end, end = replyEnd(replies, end)) {
        found.push(replies.toString("latin1", start, end));
      }
      return found;
    },
    commandsSent: () => commandCount,
    hold() {
      holding = true;
    },
    release: flush,
    releaseAll() {
      holding = false;
      client?.write(replies);
      replies = Buffer.alloc(0);
    },
    when(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
    async close() {
      client?.destroy();
      for (const upstream of upstreams) upstream.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Where the RESP value starting at `start` ends, or -1 while it is incomplete. Commands are RESP arrays too. */
function replyEnd(buffer: Buffer, start: number): number {
  const lineEnd = buffer.indexOf("\r\n", start);
  if (start >= buffer.length || lineEnd < 0) return -1;
  const type = String.fromCharCode(buffer[start]);
  const head = Number(buffer.toString("latin1", start + 1, lineEnd));
  if (type === "$") {
    const end = head < 0 ? lineEnd + 2 : lineEnd + 2 + head + 2;
    return end <= buffer.length ? end : -1;
  }
  if (type === "*") {
    let position = lineEnd + 2;
    for (let i = 0; i < head; i++) {
      position = replyEnd(buffer, position);
      if (position < 0) return -1;
    }
    return position;
  }
  return lineEnd + 2;
}
