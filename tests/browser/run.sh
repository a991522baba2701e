#!/usr/bin/env bash
# The browser test end to end: a fresh local stack on a free port, the demo month loaded through it, the
# console checked in headless Debian Chromium (playwright-core), a screenshot in tests/output/browser.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/output/browser
mkdir -p "$out"

# Debian's Chromium, and a CJK font so the screenshot shows the Chinese labels.
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)

go build -o bin/civicsnap-local ./infra/cmd/civicsnap-local
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api="http://127.0.0.1:$port"
PORT=$port bin/civicsnap-local >"$out/stack.log" 2>&1 &
stack=$!
trap 'kill -INT $stack 2>/dev/null; wait $stack 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  curl -sf "$api/v1/health" >/dev/null 2>&1 && break
  kill -0 $stack 2>/dev/null || { echo "local stack died:"; tail -20 "$out/stack.log"; exit 1; }
  sleep 0.5
done

start=$(date +%s)
API=$api go run ./infra/cmd/demo -q -days "${DEMO_DAYS:-14}" -reports "${DEMO_REPORTS:-40}" -citizens "${DEMO_CITIZENS:-15}"
echo "demo loaded in $(( $(date +%s) - start )) s"
API=$api CONSOLE_OUT=$out node --test tests/browser/
echo "screenshot: $out/dashboard.png"
