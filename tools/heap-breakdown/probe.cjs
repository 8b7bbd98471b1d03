/**
 * Preloaded into the node under study (`node --expose-gc -r probe.cjs main.js`, with an IPC channel).
 * On `{type:"heap:snapshot", path}` it runs full GCs and writes a V8 heap snapshot, then answers with
 * the heap used and RSS after those GCs, so the figures match `npm run bench -- mem`'s GC probe.
 */
const { writeHeapSnapshot } = require("node:v8");

const collect = globalThis.gc;

if (process.send && collect) {
  process.on("message", (request) => {
    if (request?.type !== "heap:snapshot") return;
    // Two passes: the first may only schedule finalizers that free more on the second.
    collect();
    collect();
    const usage = process.memoryUsage();
    const path = request.path ? writeHeapSnapshot(request.path) : undefined;
    process.send({ type: "heap:written", path, rssBytes: usage.rss, heapUsedBytes: usage.heapUsed });
  });
  process.channel?.unref();
}
