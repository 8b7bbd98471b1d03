#!/usr/bin/env bash
# Makes sure the programs the tests drive are here: Redis, nginx, PHP with Laravel 8 (Debian
# packages, no Composer), phpunit, promtool, and Chromium (the browser client's tests drive it
# with playwright-core, which downloads no browser of its own). Installs what is missing when running as root
# (CI, a fresh dev box); otherwise says what to install and fails.
set -euo pipefail

PKGS=(
  redis-server redis-tools nginx-light curl
  php-cli php-curl php-mbstring php-xml php-laravel-framework php-guzzlehttp-guzzle php-redis php-nrk-predis
  phpunit prometheus
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
# nginx-light or the full nginx: either provides the binary.
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
  missing=("${missing[@]/nginx-light/}")
fi
read -ra missing <<<"${missing[*]}"

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "test-deps: missing Debian packages: ${missing[*]}" >&2
  echo "test-deps: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# The packaged services are not wanted: the tests start their own on free ports.
for service in redis-server nginx prometheus prometheus-node-exporter; do
  systemctl disable --now "$service" >/dev/null 2>&1 || service "$service" stop >/dev/null 2>&1 || true
done
