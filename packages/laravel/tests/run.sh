#!/usr/bin/env bash
# Runs the package's PHPUnit suites: unit tests, then feature tests against a real Laravel 8
# app (tests/app, copied to a temp dir by tests/app/install.php) and a real realtime node (apps/realtime/dist).
#   bash tests/run.sh                    everything
#   bash tests/run.sh --testsuite unit   any PHPUnit arguments
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[ "$here" != "${BASH_SOURCE[0]}" ] || here=.
cd "$here/.."

fail() { echo "tests/run.sh: $*" >&2; exit 1; }

command -v php >/dev/null 2>&1 || fail "php not found: install php-cli (>= 8.1) with php-curl, php-mbstring, php-xml (bash tools/test-deps.sh)"
php -r 'exit(PHP_VERSION_ID >= 80100 ? 0 : 1);' || fail "PHP >= 8.1 needed, found $(php -r 'echo PHP_VERSION;')"
for ext in curl mbstring json; do
  php -r "exit(extension_loaded('$ext') ? 0 : 1);" || fail "PHP extension '$ext' missing (apt-get install php-$ext)"
done
PHPUNIT="${PHPUNIT:-$(command -v phpunit || true)}"
[ -n "$PHPUNIT" ] && [ -x "$PHPUNIT" ] || fail "phpunit not found: apt-get install phpunit (or set PHPUNIT=/path/to/phpunit)"
command -v node >/dev/null 2>&1 || fail "node not found: the feature tests start the realtime node"
[ -f ../../apps/realtime/dist/main.js ] || fail "apps/realtime/dist/main.js missing: build it first (npm run build at the repo root)"

[ "$#" -eq 0 ] || exec "$PHPUNIT" -c phpunit.xml.dist "$@"
# One run per suite, so that the output gives each suite's count.
for suite in unit feature; do
  echo "tests/run.sh: PHPUnit, $suite suite (tests/${suite^})"
  "$PHPUNIT" -c phpunit.xml.dist --testsuite "$suite"
done
