import type { ChildProcess } from "node:child_process";
import { distScript } from "../paths";
import type { HeapSample } from "./target";

export const gcProbeArgs = (enabled: boolean): string[] =>
  enabled ? ["--expose-gc", "-r", distScript("targets/gc-probe.js")] : [];

/** Asks the preloaded probe in `child` for a full GC and its heap afterwards. */
export function requestHeapSample(child: ChildProcess, timeoutMs = 10_000): Promise<HeapSample> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: unknown } & Partial<HeapSample>): void => {
      if (message.type !== "bench:heap") return;
      finish();
      resolve({ rssBytes: Number(message.rssBytes), heapUsedBytes: Number(message.heapUsedBytes) });
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error("GC probe did not answer"));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
    };
    child.on("message", onMessage);
    child.send({ type: "bench:gc" });
  });
}
