#!/usr/bin/env bash
# Prints the gzip size (gzip's default level 6, like the backend's
# compression) of every file each page's first load fetches, and the
# totals: the demo's landing page (dist/index.html, goal 100 KB) and the
# minimal example (dist/minimal/index.html, goal 80 KB). Builds the pages
# first unless dist/ has them; `--build` forces a build. Exits non-zero
# when a page is over its goal.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--build" ] || [ ! -f dist/index.html ] || [ ! -f dist/minimal/index.html ]; then
  ./scripts/build-pages.sh >&2
fi

over=0
# measure TITLE HTML GOAL_KB [EXTRA_FILE…]: what HTML loads (stylesheets,
# scripts, the module preload, the WASM) plus the extra files its first
# screen shows, each path relative to dist/.
measure() {
  local title=$1 html=$2 goal=$3
  shift 3
  local files=("$html")
  while IFS= read -r path; do
    files+=("${path#/}")
  done < <(grep -oE '(href|src)="?/[^" >]+|'"'"'/[^'"'"']+\.(js|wasm)'"'" "dist/$html" \
    | sed -E "s/^(href|src)=//; s/[\"']//g" | awk '!seen[$0]++')
  files+=("$@")
  local total=0
  printf '\n%s (dist/%s)\n' "$title" "$html"
  printf '%10s %10s  %s\n' raw gzip file
  for f in "${files[@]}"; do
    [ -f "dist/$f" ] || { echo "missing dist/$f" >&2; exit 1; }
    local raw gz
    raw=$(wc -c < "dist/$f")
    gz=$(gzip -6 -c "dist/$f" | wc -c)
    total=$((total + gz))
    printf '%10d %10d  %s\n' "$raw" "$gz" "$f"
  done
  local verdict="within"
  [ "$total" -le $((goal * 1024)) ] || { verdict="OVER"; over=1; }
  printf '%10s %10d  total (%d.%d KB; goal %d KB: %s)\n' '' "$total" $((total / 1024)) $(((total % 1024) * 10 / 1024)) "$goal" "$verdict"
}

# The landing page's first screen also shows the hero image (light theme).
measure "demo landing page" index.html 100 img/hero-light.svg
measure "minimal example" minimal/index.html 80
measure "demo second page (loads when opened; no goal)" more.html 1000
exit "$over"
