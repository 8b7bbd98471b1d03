#!/usr/bin/env bash
# npm audit of what ships (production dependencies), judged by tools/audit-check.mjs:
# high and critical advisories fail unless .ci/audit-allowlist.json excuses them (docs/SECURITY.md).
# npm audit's own exit status is ignored (it is non-zero for any finding, even a low one): the
# checker's is the verdict.
set -u
cd "$(dirname "$0")/.."
npm audit --omit=dev --json 2>/dev/null | node tools/audit-check.mjs
exit "${PIPESTATUS[1]}"
