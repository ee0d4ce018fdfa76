#!/usr/bin/env bash
# Static-file speed of the release backend serving the built page: wrk on
# loopback, one keep-alive connection (-c1, what a browser does) and 32
# (-c32), on /healthz, /index.html and the page's wasm, every request with
# `Accept-Encoding: gzip, br`; runs interleaved, best of RUNS (default 2).
# Prints req/s, p50 and p99, and the two goals: p50 under 1 ms on one
# connection, index.html at least half of /healthz's rate.
# BUILD=1 rebuilds the page first (it is built when dist/ is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh bench
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
if [ "${BUILD:-0}" = 1 ] || [ ! -f dist/index.html ]; then
  ./scripts/build-pages.sh
fi
cargo build --release -q -p wxh5-backend
target_dir=${CARGO_TARGET_DIR:-target}
wasm=$(cd dist && ls ./*_bg.wasm | head -1 | sed 's|^\./|/|')

port=${PORT:-18090}
base="http://127.0.0.1:$port"
# An account that is never reached (the page needs no token): the bench
# measures the server, not the simulator or WeChat.
WXH5_LISTEN="127.0.0.1:$port" WXH5_APP_ID=wxbenchstatic00000 WXH5_APP_SECRET=unused \
WXH5_API_BASE=http://127.0.0.1:9 WXH5_API_FALLBACK=none WXH5_JS_DOMAINS=h5.example.com \
WXH5_STORE=memory WXH5_DIST=dist RUST_LOG=error \
  "$target_dir/release/wxh5" >/tmp/wxh5-bench-static.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
started=$(date +%s%N)
for _ in $(seq 200); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.05; done
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))

# wrk's latency figure → milliseconds.
ms() { awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); printf "%.3f", v * (u == "us" ? 0.001 : u == "s" ? 1000 : 1) }'; }

wrk_run() { # LABEL CONNECTIONS PATH → "LABEL RPS P50MS P99MS"
  local label=$1 connections=$2 path=$3 out
  out=$(wrk -t1 -c"$connections" -d"${DURATION:-4s}" --latency -H 'Accept-Encoding: gzip, br' "$base$path")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers in $label" >&2; exit 1; fi
  echo "$label $(awk '/^Requests\/sec/ {print $2}' <<<"$out") $(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")") $(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
}

echo "checking encodings:"
for path in /index.html "$wasm"; do
  printf '  %-45s %s\n' "$path" "$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip, br' "$base$path" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" {e = $2} tolower($1) == "content-length" {l = $2} END {print e ", " l " bytes"}')"
done

results=$(mktemp)
wrk -t1 -c32 -d1s "$base/index.html" >/dev/null   # warm-up
for _ in $(seq "${RUNS:-2}"); do
  for c in 1 32; do
    wrk_run "healthz-c$c" "$c" /healthz >>"$results"
    wrk_run "index-c$c" "$c" /index.html >>"$results"
    wrk_run "wasm-c$c" "$c" "$wasm" >>"$results"
  done
done
rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
echo "wxh5 static-file bench (wrk -t1 -d${DURATION:-4s}, Accept-Encoding: gzip, br, best of ${RUNS:-2}, loopback, $(nproc) cores)"
awk -v rss="$rss" -v ready="$ready_ms" '
  { if (!($1 in best) || $2 > best[$1]) { best[$1] = $2; p50[$1] = $3; p99[$1] = $4 } }
  END {
    printf "  %-12s %10s %9s %9s\n", "run", "req/s", "p50 ms", "p99 ms"
    split("healthz-c1 index-c1 wasm-c1 healthz-c32 index-c32 wasm-c32", order, " ")
    for (i = 1; i <= 6; i++) { k = order[i]; printf "  %-12s %10.0f %9.3f %9.3f\n", k, best[k], p50[k], p99[k] }
    printf "  goal p50 < 1 ms on one connection: index %s, wasm %s\n", (p50["index-c1"] < 1 ? "met" : "NOT met"), (p50["wasm-c1"] < 1 ? "met" : "NOT met")
    printf "  goal index.html >= 0.5 x /healthz: c1 %.2f, c32 %.2f (%s)\n", best["index-c1"] / best["healthz-c1"], best["index-c32"] / best["healthz-c32"], (best["index-c32"] >= best["healthz-c32"] / 2 && best["index-c1"] >= best["healthz-c1"] / 2 ? "met" : "NOT met")
    printf "  ready %s ms after start (page loaded and compressed); RSS after the runs %s MiB\n", ready, rss
  }' "$results"
