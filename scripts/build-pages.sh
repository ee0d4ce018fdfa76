#!/usr/bin/env bash
# Builds every page into dist/: the demo's landing page (index.html, with
# `trunk build`), the demo's second page (frontend/demo/more/index.html →
# dist/more.html) and the minimal example (frontend/minimal/index.html →
# dist/minimal/). Trunk 0.21 builds one HTML file per run and empties its
# dist first, so the landing page goes first and the others are built
# into their own folders and copied in. `--debug` builds without
# optimization; release is the default.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
release=(--release)
[ "${1:-}" = "--debug" ] && release=()

# minify_glue DIST HTML: Trunk 0.21 minifies the HTML and CSS but not
# wasm-bindgen's JS glue: terser (npm) does, in place, and the glue's
# subresource-integrity hash in HTML is updated to match.
minify_glue() {
  local dist=$1 html=$2 url file old new
  [ ${#release[@]} -gt 0 ] || return 0
  url=$(grep -oE "from '[^']+\.js'" "$html" | head -1 | sed -E "s/^from '//; s/'$//")
  file="$dist/$(basename "$url")"
  old=$(openssl dgst -sha384 -binary "$file" | base64 -w0)
  terser "$file" --module --compress --mangle --output "$file.min"
  mv "$file.min" "$file"
  new=$(openssl dgst -sha384 -binary "$file" | base64 -w0)
  sed -i "s|sha384-$old|sha384-$new|g" "$html"
}

trunk build "${release[@]}"
minify_glue dist dist/index.html

# more.html: its assets at the root beside the landing page's (the same
# hashed names when the content is the same).
rm -rf target/pages/more
trunk build frontend/demo/more/index.html "${release[@]}" --dist target/pages/more --public-url /
minify_glue target/pages/more target/pages/more/index.html
for f in target/pages/more/*; do
  case "$(basename "$f")" in
    index.html) cp "$f" dist/more.html ;;
    *) cp -r "$f" dist/ ;;
  esac
done

trunk build frontend/minimal/index.html "${release[@]}" --dist dist/minimal --public-url /minimal/
minify_glue dist/minimal dist/minimal/index.html

# The end-to-end tests refuse a dist/ older than its sources (tests/tests/support).
mkdir -p target/pages
touch target/pages/built
