#!/usr/bin/env bash
# What the browser test needs, installed once: Debian's Chromium and a CJK font (apt; skipped when
# /usr/bin/chromium and the font are there) and playwright-core and axe-core at the locked versions (npm ci; skipped
# while node_modules matches package-lock.json). Playwright never downloads a browser of its own.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "browser test: needs Debian's chromium and fonts-wqy-microhei: apt-get install chromium fonts-wqy-microhei (as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
fi

stamp=node_modules/.civicsnap-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
