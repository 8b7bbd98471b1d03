import { cluster, forumClient, post, spread, until } from "./helpers";

/**
 * Redis + 3 nodes + nginx from the runner. Clients come from several 127.0.0.x addresses, over
 * WebSocket only and long-polling only; broadcasts are posted straight to each node in turn.
 */
describe("a 3-node cluster behind nginx", () => {
  it("delivers 100 broadcasts posted to different nodes to every subscriber exactly once, in offset order", async () => {
    const c = await cluster({ nodes: 3 });
    const clients = Array.from({ length: 12 }, (_, i) =>
      forumClient(c.url, {
        secret: c.jwtSecret,
        userId: i + 1,
        source: `127.0.0.${10 + i}`,
        transport: i % 2 ? "polling" : "websocket",
        threads: [7],
      }),
    );
    await Promise.all(clients.map((client) => client.ready));
    const perNode = await spread(c);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(12);
    expect(perNode.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);

    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const node = c.nodes[i % 3];
      statuses.push(
        await post(node.url, c.apiKey, { event: "new_reply", to: "thread", thread_id: 7, data: { i }, id: `r${i}` }),
      );
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    await until(() => clients.every((client) => client.seen.length >= 100), 20000, "every delivery");
    // A last broadcast: once every client has it, anything sent before it has arrived (a duplicate too).
    await post(c.url, c.apiKey, { event: "new_reply", to: "thread", thread_id: 7, data: { i: -1 }, id: "last" });
    await until(() => clients.every((client) => client.seen.some((seen) => seen.id === "last")), 20000, "the last");
    for (const client of clients) {
      client.seen.splice(
        client.seen.findIndex((seen) => seen.id === "last"),
        1,
      );
      expect(client.seen.map((seen) => seen.data.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      const offsets = client.seen.map((seen) => seen.offset);
      expect(offsets).toEqual([...offsets].sort(compare));
    }
    console.log(
      `delivered 100 broadcasts x 12 clients (connections per node ${perNode.join("/")}), each once, in order`,
    );
  });

  it("negative control: with round-robin upstreams, long-polling breaks (so the sticky test can fail)", async () => {
    const c = await cluster({ nodes: 3, stickiness: "round-robin" });
    const polling = forumClient(c.url, {
      secret: c.jwtSecret,
      userId: 1,
      source: "127.0.0.40",
      transport: "polling",
      threads: [7],
    });
    const problems: string[] = [];
    polling.socket.on("connect_error", (error) => problems.push(`connect_error: ${error.message}`));
    polling.socket.on("disconnect", (reason) => problems.push(`disconnect: ${reason}`));
    await until(() => problems.length > 0, 20000, "the polling client to fail");
    console.log(`round-robin polling client: ${problems[0]}`);
    expect(problems.length).toBeGreaterThan(0);
  });
});

function compare(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
