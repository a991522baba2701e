#!/usr/bin/env bash
# The browser test end to end (`make browser-test`): a fresh local stack on a free port (the runner
# binary, as tests/e2e starts it), a demo month loaded into it through the API, then the console checked
# in headless Debian Chromium (node --test, playwright-core), and the stack stopped.
# Output in tests/output/browser: dashboard.png, stack.log, demo.txt; the web clients' screenshots and
# accessibility results (axe-core) in tests/output/browser/clients/.
# Env: DEMO_FLAGS (default "-days 14 -reports 40 -citizens 15": a fortnight, smaller than `make demo`'s, for time).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/output/browser
mkdir -p "$out"
rm -f "$out/dashboard.png"
rm -rf "$out/clients"
mkdir -p "$out/clients"

tests/browser/deps.sh

bin=$(mktemp -d)/civicsnap-local
go build -o "$bin" ./infra/cmd/civicsnap-local
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
api="http://127.0.0.1:$port"
PORT=$port "$bin" >"$out/stack.out" 2>"$out/stack.log" </dev/null &
stack=$!
stop() {
  kill -INT "$stack" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$stack" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$stack" 2>/dev/null || true
  rm -rf "$(dirname "$bin")"
}
trap stop EXIT
for _ in $(seq 240); do
  grep -q ready "$out/stack.out" 2>/dev/null && break
  kill -0 "$stack" 2>/dev/null || { echo "the local stack died:"; tail -20 "$out/stack.log"; exit 1; }
  sleep 0.25
done
grep -q ready "$out/stack.out" || { echo "the local stack did not become ready"; tail -20 "$out/stack.log"; exit 1; }

start=$(date +%s)
# shellcheck disable=SC2086 # DEMO_FLAGS is a list of flags
if ! API=$api go run ./infra/cmd/demo -q ${DEMO_FLAGS:--days 14 -reports 40 -citizens 15} >"$out/demo.txt" 2>&1; then
  cat "$out/demo.txt"
  exit 1
fi
loaded=$(date +%s)
echo "browser test: demo month loaded in $((loaded - start)) s ($api)"
API=$api CONSOLE_OUT=$out CLIENTS_OUT=$out/clients node --test --test-concurrency=1 tests/browser/
echo "browser test: console and web clients checked in $(($(date +%s) - loaded)) s; screenshot $out/dashboard.png"
