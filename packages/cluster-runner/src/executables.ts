import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

// A normal user's PATH often lacks the sbin directories where Debian puts nginx.
const EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/local/nginx/sbin"];

/** The absolute path of `name` on PATH or in the usual sbin directories. */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ""): string {
  for (const dir of [...pathEnv.split(delimiter).filter(Boolean), ...EXTRA_DIRS]) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found on PATH nor in ${EXTRA_DIRS.join(", ")} (bash tools/test-deps.sh installs it)`);
}
