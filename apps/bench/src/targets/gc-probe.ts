/**
 * Preloaded (`node --expose-gc -r gc-probe.js`) into a server for the memory scenario. On request
 * over the IPC channel it runs a full GC and answers with heap and RSS, so "heap after GC" is
 * measured the same way in every target without touching the target's code.
 */
interface ProbeRequest {
  type?: unknown;
}

const collect = (globalThis as { gc?: () => void }).gc;

if (process.send && collect) {
  process.on("message", (request: ProbeRequest) => {
    if (request.type !== "bench:gc") return;
    // Two passes: the first may only schedule finalizers that free more on the second.
    collect();
    collect();
    const usage = process.memoryUsage();
    process.send?.({ type: "bench:heap", rssBytes: usage.rss, heapUsedBytes: usage.heapUsed });
  });
  // The probe must never be what keeps a stopping server alive.
  process.channel?.unref();
}
