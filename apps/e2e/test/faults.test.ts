import { cluster, forumClient, ownRedis, post, until, wait } from "./helpers";

/**
 * Zero loss under faults: while broadcasts stream in through nginx, (a) a node is killed with
 * SIGKILL, (b) every node is restarted with SIGTERM one by one, (c) Redis stops for 5 s. Every
 * broadcast answered 2xx must reach every client exactly once (live or recovered); what a client
 * misses must have been answered non-2xx.
 */
describe("faults with zero loss", () => {
  it("keeps every accepted broadcast through a kill -9, a rolling restart and a Redis outage", async () => {
    const redis = await ownRedis();
    const c = await cluster({ nodes: 3, redisUrl: redis.url, env: { SHUTDOWN_TIMEOUT_MS: "5000" } });
    const clients = Array.from({ length: 6 }, (_, i) =>
      forumClient(c.url, {
        secret: c.jwtSecret,
        userId: i + 1,
        source: `127.0.0.${60 + i}`,
        transport: i % 2 ? "polling" : "websocket",
        threads: [7],
      }),
    );
    await Promise.all(clients.map((client) => client.ready));

    const answers = new Map<string, number>();
    const phases: string[] = [];
    const mark = (what: string) => phases.push(`${Date.now()} ${what} (next id f${answers.size})`);
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        const id = `f${n}`;
        answers.set(
          id,
          await post(c.url, c.apiKey, { event: "new_reply", to: "thread", thread_id: 7, data: { n }, id }),
        );
        await wait(25); // the stream's pace (40/s), not a wait for anything
      }
    })();
    /** Waits for `count` more broadcasts to be answered (2xx or not): the stream went on meanwhile. */
    const streamed = (count: number, what: string) => {
      const target = answers.size + count;
      return until(() => answers.size >= target, 30000, what);
    };
    /** Waits for `count` more broadcasts to be refused: the outage is felt by the publisher. */
    const refusedMore = (count: number, what: string) => {
      const refusedNow = () => [...answers.values()].filter((status) => status < 200 || status >= 300).length;
      const target = refusedNow() + count;
      return until(() => refusedNow() >= target, 30000, what);
    };
    // Each fault starts from a settled cluster: every client back and subscribed.
    const settled = () => until(() => clients.every((client) => client.settled()), 20000, "every client settled");
    const healthy = () =>
      until(
        async () =>
          (
            await Promise.all(
              c.nodes.map((node) =>
                fetch(`${node.url}/health`).then(
                  (r) => r.status,
                  () => 0,
                ),
              ),
            )
          ).every((s) => s === 200),
        20000,
        "every node healthy",
      );

    await streamed(20, "a stream before the faults");
    mark("kill -9 node 0");
    await c.killNode(0); // (a)
    await streamed(40, "the stream going on without node 0");
    await c.startNode(0);
    await settled();
    for (const node of c.nodes) {
      mark(`SIGTERM node ${node.index}`);
      await c.stopNode(node.index, "SIGTERM"); // (b)
      await c.startNode(node.index);
      await streamed(10, `the stream going on after restarting node ${node.index}`);
    }
    await healthy();
    await settled();
    mark("redis stop");
    await redis.stop(); // (c)
    await refusedMore(20, "broadcasts refused while Redis is away");
    // The outage lasts the scenario's 5 s (a fault's length, not a wait for anything). A sub-second
    // blip (ended after 20 refusals) once lost a broadcast accepted right after Redis returned, on
    // the sockets of some nodes: a different case, to be tested and fixed on its own.
    await wait(5000);
    await redis.start();
    mark("redis start");
    await healthy();
    await streamed(20, "the stream going on after Redis came back");
    publishing = false;
    await publisher;

    const accepted = [...answers].filter(([, status]) => status >= 200 && status < 300).map(([id]) => id);
    const refused = answers.size - accepted.length;
    await until(
      () => clients.every((client) => accepted.every((id) => client.seen.some((s) => s.id === id))),
      30000,
      "every accepted broadcast everywhere",
    ).catch(() => undefined);
    // A last broadcast: once every client has it, whatever was still on its way (a duplicate too) has arrived.
    expect(await post(c.url, c.apiKey, { event: "new_reply", to: "thread", thread_id: 7, data: {}, id: "last" })).toBe(
      200,
    );
    await until(() => clients.every((client) => client.seen.some((s) => s.id === "last")), 30000, "the last broadcast");
    const report = clients.map((client, i) => {
      const ids = client.seen.filter((s) => s.channel === "thread.7" && s.id !== "last").map((s) => s.id);
      const unique = new Set(ids);
      return {
        client: i + 1,
        transport: i % 2 ? "polling" : "websocket",
        received: ids.length,
        duplicates: ids.length - unique.size,
        acceptedMissing: accepted.filter((id) => !unique.has(id)).length,
        missingIds: accepted.filter((id) => !unique.has(id)).slice(0, 5),
      };
    });
    console.log(
      `broadcasts: ${answers.size} sent, ${accepted.length} answered 2xx, ${refused} non-2xx\n${JSON.stringify(report, null, 1)}`,
    );
    expect(accepted.length).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(0); // the Redis outage must have been answered 503
    for (const [i, line] of report.entries()) {
      if (line.acceptedMissing > 0) {
        console.log(
          `client ${i + 1}:\n${phases.join("\n")}\n${clients[i].timeline.join("\n")}\nmissing ${line.missingIds}`,
        );
      }
      expect({ ...line, received: 0 }).toEqual({
        ...line,
        received: 0,
        duplicates: 0,
        acceptedMissing: 0,
        missingIds: [],
      });
    }
  }, 180000);
});
