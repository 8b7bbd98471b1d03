import { setFlagsFromString } from "node:v8";

/**
 * How much bytecode a function runs before V8 considers it for TurboFan (`--interrupt-budget`; V8
 * looks after 3 such budgets, and an inline cache that changes starts the count again). V8 11.3
 * (Node 20) spends 67584 bytes a budget: a small function of the delivery path must run a few
 * thousand times first. A node of a cluster calls each of them a few hundred times a second, so after
 * a start they ran unoptimised for 20–30 s, at 2–3 times the CPU of their compiled selves (bench S5:
 * 3 nodes, 1000 broadcasts/s; TurboFan compiles went on until 40 s after the start, and the CPU came
 * down with them). `JIT_INTERRUPT_BUDGET` (default 8192) lowers it; 0 leaves V8's own.
 *
 * Set from main, after the config is read: V8 reads the flag whenever it gives a function its next
 * budget, so it holds for code that has already run too. The warm-up before listening (warm-up.ts)
 * covers the API call; this covers what only real traffic runs (bus, delivery, sockets).
 */
export function lowerTierUpThreshold(interruptBudget: number): void {
  if (interruptBudget > 0) setFlagsFromString(`--interrupt-budget=${interruptBudget}`);
}
