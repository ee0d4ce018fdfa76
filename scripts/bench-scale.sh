#!/usr/bin/env bash
# The same signing load against 1 and 4 backend instances sharing one Redis
# (a redis-server started here on a free loopback port, stopped afterwards):
# prints throughput and the upstream token/ticket requests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh bench
export PATH="$HOME/.cargo/bin:$PATH"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null; wait $redis_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
WXH5_BENCH_REDIS_URL="redis://127.0.0.1:$port/" RUST_LOG=warn \
  cargo run --release -q -p wxh5-e2e --example bench_scale
