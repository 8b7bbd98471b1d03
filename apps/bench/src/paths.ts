import path from "node:path";

/** apps/bench: both src/paths.ts and dist/paths.js sit one level below it. */
export const BENCH_ROOT = path.resolve(__dirname, "..");
export const REPO_ROOT = path.resolve(BENCH_ROOT, "../..");

/**
 * Programs run in child processes are always the compiled ones, also under ts-jest: forking a .ts
 * file would need a TypeScript loader in every child.
 */
export const distScript = (relative: string): string => path.join(BENCH_ROOT, "dist", relative);

export const OURS_MAIN = path.join(REPO_ROOT, "apps/realtime/dist/main.js");
export const ECHO_BIN = path.dirname(require.resolve("laravel-echo-server/package.json")) + "/bin/server.js";
export const DEFAULT_RESULTS_DIR = path.join(REPO_ROOT, "bench-results");
