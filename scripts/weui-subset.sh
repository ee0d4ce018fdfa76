#!/usr/bin/env sh
# Trunk pre_build hook: concatenates the WeUI widgets each page uses, from
# the npm package (never a committed copy), into one stylesheet per page
# that Trunk then hashes into dist/: target/weui/weui-demo.css for the demo
# (index.html) and target/weui/weui-minimal.css for the minimal example.
# The full weui.min.css is ~23 KB gzipped. Add a widget to a list when its
# page starts using it.
set -eu
cd "$(dirname "$0")/.."
src=node_modules/weui/dist/style
out=target/weui
[ -d "$src" ] || { echo "weui is not installed: run scripts/install.sh" >&2; exit 1; }
mkdir -p "$out"

purgecss=node_modules/.bin/purgecss
[ -x "$purgecss" ] || { echo "purgecss is not installed: run scripts/install.sh" >&2; exit 1; }

# write NAME CONTENT FILE… : concatenates the WeUI files, then drops the
# rules, variables and keyframes that no class name in CONTENT (a
# space-separated list of globs: the page's Rust sources and HTML) can
# use (PurgeCSS), into $out/NAME.css; touches it only when it changed,
# so `trunk serve` does not loop.
write() {
  name=$1
  content=$2
  shift 2
  mkdir -p "$out/full" "$out/purged"
  for f in "$@"; do
    cat "$src/$f"
    echo
  done > "$out/full/$name.css"
  # shellcheck disable=SC2086
  "$purgecss" --css "$out/full/$name.css" --content $content \
    --variables --keyframes --output "$out/purged" >/dev/null
  if ! cmp -s "$out/purged/$name.css" "$out/$name.css" 2>/dev/null; then
    cp "$out/purged/$name.css" "$out/$name.css"
  fi
}

# Where each page's class names come from: the kit (its widgets), the
# core (data-weui-theme) and the page's own sources and HTML.
kit="frontend/core/src/*.rs frontend/leptos/src/*.rs frontend/leptos/src/weui/*.rs"

# The demo's landing page (index.html): 首页 and 诊断.
landing="base/base.min.css
  icon/weui-icon.min.css
  widget/weui-cell/weui-cell.min.css
  widget/weui-button/weui-button.min.css
  widget/weui-page/weui-msg.min.css
  widget/weui-tips/weui-loadmore.min.css
  widget/weui-loading/weui-loading.min.css
  widget/weui-tab/weui-tab.min.css
  widget/weui-panel/weui-panel.min.css
  widget/weui-media-box/weui-media-box.min.css"
# shellcheck disable=SC2086
write weui-demo "$kit frontend/demo/src/*.rs index.html" $landing

# The demo's second page (more.html): also the radio cells, toast,
# dialog, action sheet and uploader.
# shellcheck disable=SC2086
write weui-more "$kit frontend/demo/src/*.rs frontend/demo/src/bin/*.rs frontend/demo/more/index.html" $landing \
  widget/weui-cell/weui-check.min.css \
  widget/weui-tips/weui-mask.min.css \
  widget/weui-tips/weui-toast.min.css \
  widget/weui-tips/weui-dialog.min.css \
  widget/weui-tips/weui-actionsheet.min.css \
  widget/weui-cell/weui-uploader.min.css

# The minimal example: cells and a button.
write weui-minimal "$kit frontend/minimal/src/*.rs frontend/minimal/index.html" \
  base/base.min.css \
  widget/weui-cell/weui-cell.min.css \
  widget/weui-button/weui-button.min.css
