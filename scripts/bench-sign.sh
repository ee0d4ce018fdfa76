#!/usr/bin/env bash
# Signing throughput of the release backend (simulator mode, token warmed):
# `GET /api/jssdk/config` with a fixed and with a varying page URL against
# `GET /healthz` of the same server, wrk -t1 -c32 -d4s on loopback, runs
# interleaved, best of RUNS (default 2). Prints req/s, p99 and the ratio
# sign/healthz. PEERS=1 also runs ../shared/bench/run-peer-bench.sh against
# this server, so the Node peers are measured in the same session.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh bench
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p wxh5-backend

port=${PORT:-18080}
base="http://127.0.0.1:$port"
WXH5_LISTEN="127.0.0.1:$port" WXH5_JS_DOMAINS=h5.example.com WXH5_DIST=/nonexistent RUST_LOG=warn \
  ./target/release/wxh5 serve --simulator >/tmp/wxh5-bench.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
fixed='/api/jssdk/config?url=https%3A%2F%2Fh5.example.com%2Fpage%3Fx%3D1'
curl -sf "$base$fixed" >/dev/null   # warms the token and the ticket

wrk_run() { # LABEL wrk-args… → "LABEL RPS P99MS"
  local label=$1; shift
  local out
  out=$(wrk -t1 -c32 -d"${DURATION:-4s}" --latency "$@")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers in $label" >&2; exit 1; fi
  awk -v l="$label" '/^Requests\/sec/{r=$2} $1=="99%"{v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v); p=v*(u=="us"?0.001:u=="s"?1000:1)} END{print l, r, p}' <<<"$out"
}

results=$(mktemp)
wrk -t1 -c32 -d1s "$base/healthz" >/dev/null; wrk -t1 -c32 -d1s "$base$fixed" >/dev/null
for i in $(seq "${RUNS:-2}"); do
  wrk_run healthz "$base/healthz" >>"$results"
  wrk_run sign-fixed "$base$fixed" >>"$results"
  wrk_run sign-vary -s scripts/bench/vary-url.lua "$base" -- "run$i-$$" >>"$results"
done
rss=$(awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/$pid/status")
echo "wxh5 signing bench (wrk -t1 -c32 -d${DURATION:-4s}, best of ${RUNS:-2}, loopback, $(nproc) cores)"
awk -v rss="$rss" '
  { if (!($1 in best) || $2 > best[$1]) best[$1] = $2; if (!($1 in p99) || $3 < p99[$1]) p99[$1] = $3 }
  END {
    printf "  %-12s %10s %10s %8s\n", "endpoint", "req/s", "p99 ms", "ratio"
    split("healthz sign-fixed sign-vary", order, " ")
    for (i = 1; i <= 3; i++) { k = order[i]; printf "  %-12s %10.0f %10.2f %8.2f\n", k, best[k], p99[k], best[k] / best["healthz"] }
    printf "  RSS after the runs: %s MiB\n", rss
  }' "$results"
if [ "${PEERS:-0}" = 1 ] && [ -x ../shared/bench/run-peer-bench.sh ]; then
  ../shared/bench/run-peer-bench.sh "$base"
fi
