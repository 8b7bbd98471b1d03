import { ScriptLane } from "../src/cluster/script-lane";

/**
 * The lane's rules with a fake server (a list of what ran, a flag for the script cache); the
 * real-Redis case is test/redis-script-order.test.ts.
 */
const noscript = (): Error => new Error("NOSCRIPT No matching script. Please use EVAL.");
/** The lane's repair as RedisScript gives it: `load` for NOSCRIPT, nothing for any other error. */
const onNoScript =
  (load: () => Promise<void>) =>
  (error: unknown): (() => Promise<void>) | undefined =>
    error instanceof Error && error.message.startsWith("NOSCRIPT") ? load : undefined;

/** A server whose replies the test gives one by one, in the order the calls reached it. */
function fakeServer() {
  let cached = false;
  const ran: string[] = [];
  const pending: Array<() => void> = [];
  return {
    ran,
    loads: 0,
    load(this: { loads: number }) {
      this.loads++;
      cached = true;
      return Promise.resolve();
    },
    flush() {
      cached = false;
    },
    /** A call as it reaches the server: runs if the script is there, answers when `answer` is called. */
    send(item: string): () => Promise<string> {
      return () => {
        const found = cached;
        if (found) ran.push(item);
        return new Promise((resolve, reject) => pending.push(() => (found ? resolve(item) : reject(noscript()))));
      };
    },
    answerAll() {
      for (const answer of pending.splice(0)) answer();
    },
    answerOne() {
      pending.shift()?.();
    },
  };
}

describe("ScriptLane", () => {
  it("resends the calls that met NOSCRIPT and those issued meanwhile in issue order, once every call on its way answered", async () => {
    const server = fakeServer();
    const lane = new ScriptLane(onNoScript(() => server.load()));
    const c0 = lane.run(server.send("c0"));
    const c1 = lane.run(server.send("c1"));
    server.answerOne(); // c0: NOSCRIPT → the lane closes and loads
    await Promise.resolve();
    const c2 = lane.run(server.send("c2")); // issued while closed: waits
    expect(server.ran).toEqual([]);
    server.answerOne(); // c1: NOSCRIPT too
    await new Promise((resolve) => setImmediate(resolve));
    server.answerAll();
    expect(await Promise.all([c0, c1, c2])).toEqual(["c0", "c1", "c2"]);
    expect(server.ran).toEqual(["c0", "c1", "c2"]);
    expect(server.loads).toBe(1);
  });

  it("fails a call whose script a load does not bring back (after three loads), and keeps serving", async () => {
    const server = fakeServer();
    const lane = new ScriptLane(
      onNoScript(async () => {
        server.loads++;
        server.flush(); // a server that drops what is loaded
      }),
    );
    const call = lane.run(server.send("c0"));
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      server.answerAll();
    }
    await expect(call).rejects.toThrow(/^NOSCRIPT/);
    expect(server.loads).toBe(3);

    await server.load();
    const next = lane.run(server.send("c1"));
    server.answerAll();
    expect(await next).toBe("c1");
  });

  it("passes other errors through without loading", async () => {
    let loads = 0;
    const lane = new ScriptLane(onNoScript(async () => void loads++));
    await expect(lane.run(() => Promise.reject(new Error("WRONGTYPE")))).rejects.toThrow("WRONGTYPE");
    expect(loads).toBe(0);
  });
});
