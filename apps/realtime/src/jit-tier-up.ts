import { setFlagsFromString } from "node:v8";

/**
 * Not from the start: lowered at once, it had a node that takes 2000 calls/s as it starts queue so
 * many compiles in its first second that its worst latency there rose from 79–362 ms to 557–669 ms
 * (bench s3, cold start). By 5 s after listening, whatever runs that often is compiled anyway.
 */
export const TIER_UP_DELAY_MS = 5000;

/**
 * How much bytecode a function runs before V8 considers it for TurboFan (`--interrupt-budget`; V8
 * looks after 3 such budgets, and an inline cache that changes starts the count again). V8 11.3
 * (Node 20) spends 67584 bytes a budget: a small function of the delivery path must run a few
 * thousand times first. A node of a cluster calls each of them a few hundred times a second, so after
 * a start they ran unoptimised for 20–30 s, at 2–3 times the CPU of their compiled selves (bench S5:
 * 3 nodes, 1000 broadcasts/s; TurboFan compiles went on until 40 s after the start, and the CPU came
 * down with them). `JIT_INTERRUPT_BUDGET` (default 8192) lowers it; 0 leaves V8's own.
 *
 * Set from main, TIER_UP_DELAY_MS after the node listens: V8 reads the flag whenever it gives a
 * function its next budget, so it holds for code that has already run too. The warm-up before
 * listening (warm-up.ts) covers the API call; this covers what only real traffic runs (bus,
 * delivery, sockets), and what runs too seldom to be compiled in a node's first seconds.
 */
export function lowerTierUpThreshold(interruptBudget: number): boolean {
  if (interruptBudget <= 0) return false;
  setFlagsFromString(`--interrupt-budget=${interruptBudget}`);
  return true;
}
