#!/usr/bin/env sh
# Trunk pre_build hook: concatenates the WeUI widgets the page uses, from
# the npm package (never a committed copy), into one stylesheet that Trunk
# then hashes into dist/. The full weui.min.css is ~23 KB gzipped; this
# subset is ~13 KB. Add a widget here when the page starts using it.
set -eu
cd "$(dirname "$0")/.."
src=node_modules/weui/dist/style
out=target/weui
[ -d "$src" ] || { echo "weui is not installed: run scripts/install.sh" >&2; exit 1; }
mkdir -p "$out"
{
  for f in \
    base/base.min.css \
    icon/weui-icon.min.css \
    widget/weui-cell/weui-cell.min.css \
    widget/weui-cell/weui-check.min.css \
    widget/weui-button/weui-button.min.css \
    widget/weui-page/weui-msg.min.css \
    widget/weui-tips/weui-toast.min.css \
    widget/weui-tips/weui-dialog.min.css \
    widget/weui-tips/weui-mask.min.css \
    widget/weui-tips/weui-loadmore.min.css \
    widget/weui-loading/weui-loading.min.css \
    widget/weui-tab/weui-tab.min.css \
    widget/weui-panel/weui-panel.min.css \
    widget/weui-media-box/weui-media-box.min.css
  do
    cat "$src/$f"
    echo
  done
} > "$out/weui-subset.css.tmp"
# Only touch the output when it changed, so `trunk serve` does not loop.
if ! cmp -s "$out/weui-subset.css.tmp" "$out/weui-subset.css" 2>/dev/null; then
  mv "$out/weui-subset.css.tmp" "$out/weui-subset.css"
else
  rm "$out/weui-subset.css.tmp"
fi
