#!/usr/bin/env node
/** `npm run bench -- <scenario> [options]`: see USAGE in args.ts and docs/PERFORMANCE.md. */
import path from "node:path";
import { parseCli, UsageError } from "./args";
import { runBench } from "./bench";
import { installExitCleanup } from "./proc/children";
import { formatHotSpots, profilesIn } from "./report/cpu-profile";

async function main(): Promise<number> {
  const options = parseCli(process.argv.slice(2));
  installExitCleanup();
  const cpuProfileDir = options.cpuProfile
    ? path.join(options.outDir, `profiles-${new Date().toISOString().replace(/[:.]/g, "-")}`)
    : undefined;
  const result = await runBench({ ...options, cpuProfileDir });
  process.stdout.write(`\n${result.markdown}\n`);
  if (!result.pinned) process.stdout.write("(not pinned: taskset missing, fewer than 2 cores, or --no-pin)\n");
  if (cpuProfileDir) {
    for (const file of profilesIn(cpuProfileDir)) process.stdout.write(`\n${formatHotSpots(file)}`);
  }
  process.stdout.write(`\nwritten: ${result.files.map((f) => path.relative(process.cwd(), f)).join(", ")}\n`);
  return result.records.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
