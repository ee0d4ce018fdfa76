#!/usr/bin/env bash
# A bulk send through the durable outbox: one template message to N
# recipients (default 10,000) against the in-process simulator (simulator
# mode, embedded store, every send's TEMPLATESENDJOBFINISH pushed back to
# the server), at the job's highest rate. Prints the wall time, sends per
# second and the server's memory (RSS now and peak).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p wxh5-backend

n=${RECIPIENTS:-10000}
rate=${RATE:-2000}
port=${PORT:-18081}
admin=bench-admin-key-0123456789abcdef
base="http://127.0.0.1:$port"
data=$(mktemp -d)
WXH5_LISTEN="127.0.0.1:$port" WXH5_JS_DOMAINS=h5.example.com WXH5_DIST=/nonexistent RUST_LOG=warn \
  WXH5_ADMIN_TOKEN=$admin WXH5_TOKEN=bench-push-token WXH5_DATA_DIR="$data" \
  "$target/release/wxh5" serve --simulator >/tmp/wxh5-bench-outbox.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
rss_before=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status")

body=$(mktemp)
{
  printf '{"kind":"template","rate":%s,"message":{"template_id":"TPL_BENCH","data":{"thing1":{"value":"年终活动"},"time2":{"value":"2026年12月31日 20:00"}}},"touser":[' "$rate"
  seq -f 'oBench%06g' 1 "$n" | sed 's/.*/"&"/' | paste -sd, -
  printf ']}'
} >"$body"
start=$(date +%s.%N)
id=$(curl -sf -H "Authorization: Bearer $admin" -H 'content-type: application/json' \
  --data-binary @"$body" "$base/api/admin/jobs" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
rm -f "$body"
status=""
for _ in $(seq 6000); do # at most 10 minutes
  status=$(curl -sf -H "Authorization: Bearer $admin" "$base/api/admin/jobs/$id")
  grep -q '"state":"running"' <<<"$status" || break
  sleep 0.1
done
end=$(date +%s.%N)
rss=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/{printf "%.1f", $2/1024}' "/proc/$pid/status")
echo "wxh5 outbox bench: one template message to $n recipients, job rate $rate/s, simulator mode, embedded store, $(nproc) cores"
echo "  job: $status"
awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { t = e - s; printf "  wall time %.2f s, %.0f sends/s\n", t, n / t }'
echo "  server RSS: $rss_before MiB before, $rss MiB after, peak $hwm MiB"
