#!/usr/bin/env bash
# Every test: install what is missing, check formatting and lints (clippy
# with warnings as errors), build the pages, start a redis-server
# on a free loopback port for the tests (stopped at the end), run the Rust
# tests (unit, integration, end-to-end in headless Chromium) and the page's
# wasm-bindgen tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh test
# The connection tests hold a thousand sockets at once: use the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CHROME="${CHROME:-/usr/bin/chromium}"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null; wait $redis_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export WXH5_TEST_REDIS_URL="redis://127.0.0.1:$port/"

log=$(mktemp)
# Formatting and lints first: the README's test command runs both.
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
./scripts/build-pages.sh
cargo test --workspace 2>&1 | tee -a "$log"
cargo test -p wxh5-core --target wasm32-unknown-unknown 2>&1 | tee -a "$log"

# One closing line for the whole run (the last runner alone may be the
# page's doc-tests, which has none).
awk '/^test result:/ { p += $4; f += $6 } END { printf "total: %d passed, %d failed\n", p, f }' "$log"
