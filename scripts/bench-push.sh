#!/usr/bin/env bash
# Message-push throughput: the release backend (default embedded store, dedup
# and replay checks on, a fresh data directory per run) against node-webot's
# `wechat` middleware on express (npm, pinned below, installed into
# $PEER_DEPS, never into this repo), both answering every text push with
# the same help text. Pre-signed pushes, each with its own MsgId, nonce and
# signature (scripts/bench/make-pushes.js), are cycled by
# scripts/bench/pushes.lua; wrk -t1 -c32 -d4s --latency on loopback.
#
# Prints pushes/s, p99 and RSS for each server in plaintext and safe mode
# and the ratio wxh5/node, then wxh5 on Redis (safe mode) and a 30-second
# safe-mode run on the embedded store with RSS at its start and end.
# Environment: RUNS (default 1, best of), DURATION (4s), LONG (30s),
# WXH5_BIN (a release binary to use instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
./scripts/install.sh bench
export PATH="$HOME/.cargo/bin:$PATH"
bin=${WXH5_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p wxh5-backend
  bin=${CARGO_TARGET_DIR:-$root/target}/release/wxh5
fi

PEER_DEPS=${PEER_DEPS:-/tmp/wxh5-push-peer}
WECHAT_VERSION=2.1.0
EXPRESS_VERSION=4.21.2
TOKEN=bench-token
APP_ID=wxbench0000000001
KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
DURATION=${DURATION:-4s}
LONG=${LONG:-30s}
RUNS=${RUNS:-1}
PUSHES=${PUSHES:-200000}        # per file: more than one run sends
LONG_PUSHES=${LONG_PUSHES:-600000}
work=$(mktemp -d /tmp/wxh5-bench-push.XXXXXX)

if [ "$(node -p "try{require('$PEER_DEPS/node_modules/wechat/package.json').version}catch(e){''}")" != "$WECHAT_VERSION" ] ||
   [ "$(node -p "try{require('$PEER_DEPS/node_modules/express/package.json').version}catch(e){''}")" != "$EXPRESS_VERSION" ]; then
  mkdir -p "$PEER_DEPS"
  (cd "$PEER_DEPS" && npm install --no-audit --no-fund --no-save --loglevel=error \
    "wechat@$WECHAT_VERSION" "express@$EXPRESS_VERSION")
fi
export NODE_PATH=$PEER_DEPS/node_modules

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -n "${redis_port:-}" ] && redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1
  rm -rf "$work"
  true
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_up() { for _ in $(seq 200); do curl -sf "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }
rss_mib() { awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/$1/status"; }
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

# make FILE MODE N FIRST_MSG_ID
make() { node scripts/bench/make-pushes.js "$2" "$3" "$4" "$TOKEN" "$APP_ID" "$KEY" >"$1"; }

# start_wxh5 MODE [STORE] → sets wxh5_pid and wxh5_url (fresh data each time)
start_wxh5() {
  local port data
  port=$(free_port); data=$(mktemp -d "$work/data.XXXX")
  env -u WXH5_CONFIG WXH5_LISTEN="127.0.0.1:$port" WXH5_APP_ID=$APP_ID WXH5_APP_SECRET=x \
    WXH5_API_BASE=http://127.0.0.1:9 WXH5_API_FALLBACK=none WXH5_TOKEN=$TOKEN WXH5_AES_KEY=$KEY \
    WXH5_CALLBACK_MODE="$1" WXH5_DATA_DIR="$data" ${2:+WXH5_STORE=$2} WXH5_DIST=/nonexistent \
    RUST_LOG=error "$bin" >"$work/wxh5.log" 2>&1 &
  wxh5_pid=$!; pids+=("$wxh5_pid"); wxh5_url="http://127.0.0.1:$port"
  wait_up "$wxh5_url"
}

start_node() {
  local port; port=$(free_port)
  node scripts/bench/push-peer.js "$port" "$TOKEN" "$APP_ID" "$KEY" &
  node_pid=$!; pids+=("$node_pid"); node_url="http://127.0.0.1:$port"
  wait_up "$node_url"
}

# bench LABEL URL FILE [DURATION] → appends "LABEL RPS P99MS RSS" to $results
results=$work/results
bench() {
  local label=$1 url=$2 file=$3 d=${4:-$DURATION} pid=$5 out rps p99
  out=$(wrk -t1 -c32 -d"$d" --latency -s scripts/bench/pushes.lua "$url" -- "$file")
  if grep -q "Non-2xx" <<<"$out"; then echo "$label: non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v); print v*(u=="us"?0.001:u=="s"?1000:1)}' <<<"$out")
  echo "$label $rps $p99 $(rss_mib "$pid")" >>"$results"
}

echo "generating $PUSHES plaintext and $PUSHES safe-mode pushes…" >&2
make "$work/plain" plain "$PUSHES" 1000000000000
make "$work/safe" safe "$PUSHES" 2000000000000

start_node
warm=$work/warm; make "$warm" plain 2000 9000000000000
wrk -t1 -c32 -d1s -s scripts/bench/pushes.lua "$node_url" -- "$warm" >/dev/null
for _ in $(seq "$RUNS"); do
  bench node-plain "$node_url" "$work/plain" "$DURATION" "$node_pid"
  bench node-safe "$node_url" "$work/safe" "$DURATION" "$node_pid"
done
stop "$node_pid"

for _ in $(seq "$RUNS"); do
  start_wxh5 plaintext
  bench wxh5-plain "$wxh5_url" "$work/plain" "$DURATION" "$wxh5_pid"
  stop "$wxh5_pid"
  start_wxh5 safe
  bench wxh5-safe "$wxh5_url" "$work/safe" "$DURATION" "$wxh5_pid"
  stop "$wxh5_pid"
done

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
for _ in $(seq "$RUNS"); do
  redis-cli -p "$redis_port" flushall >/dev/null
  start_wxh5 safe "redis://127.0.0.1:$redis_port/"
  bench wxh5-redis-safe "$wxh5_url" "$work/safe" "$DURATION" "$wxh5_pid"
  stop "$wxh5_pid"
done

echo "generating $LONG_PUSHES safe-mode pushes for the $LONG run…" >&2
make "$work/long" safe "$LONG_PUSHES" 3000000000000
start_wxh5 safe
rss_start=$(rss_mib "$wxh5_pid")
# RSS every 5 s while wrk loads its file and runs.
( while kill -0 "$wxh5_pid" 2>/dev/null; do sleep 5; printf '%s ' "$(rss_mib "$wxh5_pid" 2>/dev/null)"; done ) >"$work/rss" 2>/dev/null &
sampler=$!
bench wxh5-safe-long "$wxh5_url" "$work/long" "$LONG" "$wxh5_pid"
rss_end=$(rss_mib "$wxh5_pid")
kill "$sampler" 2>/dev/null || true
rss_trace=$(cat "$work/rss")
db_mib=$(du -m "$(dirname "$(ls "$work"/data.*/wxh5.redb | tail -1)")" | awk '{print $1}')
stop "$wxh5_pid"

echo
echo "Message pushes: text message, default text reply; wrk -t1 -c32 -d$DURATION, best of $RUNS, loopback, $(nproc) cores"
echo "node: wechat@$WECHAT_VERSION on express@$EXPRESS_VERSION, node $(node --version); wxh5: release, embedded store unless noted, dedup + replay checks on"
awk -v rs="$rss_start" -v re="$rss_end" -v trace="$rss_trace" -v long="$LONG" -v lp="$LONG_PUSHES" -v db="$db_mib" '
  { if (!($1 in best) || $2 > best[$1]) { best[$1] = $2; p99[$1] = $3 } rss[$1] = $4 }
  END {
    printf "  %-22s %10s %9s %8s\n", "server / mode", "pushes/s", "p99 ms", "RSS MiB"
    n = split("node-plain wxh5-plain node-safe wxh5-safe wxh5-redis-safe", order, " ")
    for (i = 1; i <= n; i++) { k = order[i]; printf "  %-22s %10.0f %9.2f %8s\n", k, best[k], p99[k], rss[k] }
    printf "  ratio wxh5/node: plaintext %.1fx, safe %.1fx; wxh5 safe / node plaintext %.1fx; redis safe / node plaintext %.1fx\n",
      best["wxh5-plain"] / best["node-plain"], best["wxh5-safe"] / best["node-safe"],
      best["wxh5-safe"] / best["node-plain"], best["wxh5-redis-safe"] / best["node-plain"]
    printf "  %s safe-mode run (embedded): %.0f pushes/s, p99 %.2f ms, RSS %s MiB idle before, %s MiB at the end; every 5 s (wrk loads its file first): %s(%s distinct pushes; database %s MiB)\n",
      long, best["wxh5-safe-long"], p99["wxh5-safe-long"], rs, re, trace, lp, db
  }' "$results"
