import { execFileSync } from "node:child_process";
import { join } from "node:path";

const MODULE = join(__dirname, "../dist/jit-tier-up.js");

/**
 * How many calls a small function takes to be optimised, in a fresh node whose tier-up threshold
 * `lowerTierUpThreshold(budget)` set. Compiles synchronously (--no-concurrent-recompilation), so the
 * count does not depend on a background thread's timing; V8's own status bit says when it is done.
 */
function callsUntilOptimised(budget: number): number {
  const script = `
    require(${JSON.stringify(MODULE)}).lowerTierUpThreshold(${budget});
    function frame(message) { return message.event.length + message.channel.length; }
    const OPTIMISED = 1 << 4;
    let calls = 0;
    while ((%GetOptimizationStatus(frame) & OPTIMISED) === 0 && calls < 1e6) {
      frame({ event: "reply.created", channel: "thread." + (calls % 7) });
      calls++;
    }
    process.stdout.write(String(calls));`;
  const out = execFileSync(process.execPath, ["--allow-natives-syntax", "--no-concurrent-recompilation", "-e", script]);
  return Number(out.toString());
}

describe("lowerTierUpThreshold", () => {
  it("has a small function optimised after far fewer calls than V8's default (0 keeps the default)", () => {
    const byDefault = callsUntilOptimised(0);
    const lowered = callsUntilOptimised(8192);
    expect(byDefault).toBeLessThan(1e6);
    expect(lowered).toBeGreaterThan(0);
    expect(lowered * 4).toBeLessThan(byDefault);
  });
});
