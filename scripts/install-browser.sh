#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing and we can (root with apt-get).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "==> installing Debian's chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif [ "${REQUIRE_BROWSER:-0}" = "1" ]; then
  echo "chromium is missing and cannot be installed here (need root and apt-get)" >&2
  exit 1
else
  echo "==> chromium not installed: browser tests will skip (install it with: sudo apt-get install chromium)"
fi
