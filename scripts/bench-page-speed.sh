#!/usr/bin/env bash
# Time to the app-ready marker in headless Chromium with 4× CPU throttling
# and a slow-3G-like network (400 ms round trip, 400 kbit/s each way;
# Chrome DevTools Protocol), cold cache, inside a stand-in WeChat (the
# official jweixin and the test WeixinJSBridge): the demo's landing page,
# the minimal example, and the seed's Vue 2 + jQuery + jweixin page rebuilt
# from npm (bench/seed-page, installed into target/seed-page, never
# shipped). Each page: load, sign (/api/jssdk/config), wx.config verified.
# RUNS=n (default 3) loads per page; the median is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh test >/dev/null
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
if [ "${1:-}" = "--build" ] || [ ! -f dist/index.html ] || [ ! -f dist/minimal/index.html ]; then
  ./scripts/build-pages.sh >&2
fi

# The seed page from its npm packages, in a scratch folder.
seed=target/seed-page
mkdir -p "$seed/dist"
cp bench/seed-page/package.json "$seed/"
if ! cmp -s bench/seed-page/package.json "$seed/node_modules/.installed.json" 2>/dev/null; then
  (cd "$seed" && npm install --no-audit --no-fund --loglevel=error --no-package-lock >&2)
  cp bench/seed-page/package.json "$seed/node_modules/.installed.json"
fi
cp bench/seed-page/index.html "$seed/dist/index.html"
cp "$seed/node_modules/vue/dist/vue.min.js" "$seed/dist/vue.min.js"
cp "$seed/node_modules/jquery/dist/jquery.min.js" "$seed/dist/jquery.min.js"
cp "$seed/node_modules/jweixin-module/lib/index.js" "$seed/dist/jweixin.js"

export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" CHROME="${CHROME:-/usr/bin/chromium}"
exec cargo run --quiet --release -p wxh5-e2e --example bench_page_speed -- "$seed/dist"
