#!/usr/bin/env bash
# Prints the gzip size (gzip's default level 6, like the backend's
# compression) of every file the page's first load fetches, and the total.
# Builds the page first unless dist/ exists; `--build` forces a build.
# Goal: 100 KB (102400 bytes) in all, CSS included.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--build" ] || [ ! -f dist/index.html ]; then
  export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
  trunk build --release >&2
fi

# What index.html loads: stylesheets, scripts, the module preload, the
# WASM; then the home screen's image (light theme).
files=(index.html)
while IFS= read -r path; do
  files+=("${path#/}")
done < <(grep -oE '(href|src)="/[^"]+"|'"'"'/[^'"'"']+\.(js|wasm)'"'" dist/index.html \
  | sed -E "s/^(href|src)=//; s/[\"']//g" | awk '!seen[$0]++')
files+=(img/hero-light.svg)

total=0
printf '%10s %10s  %s\n' raw gzip file
for f in "${files[@]}"; do
  [ -f "dist/$f" ] || { echo "missing dist/$f" >&2; exit 1; }
  raw=$(wc -c < "dist/$f")
  gz=$(gzip -6 -c "dist/$f" | wc -c)
  total=$((total + gz))
  printf '%10d %10d  %s\n' "$raw" "$gz" "$f"
done
printf '%10s %10d  total (%d.%d KB; goal 100 KB)\n' '' "$total" $((total / 1024)) $(((total % 1024) * 10 / 1024))
