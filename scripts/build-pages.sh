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

trunk build "${release[@]}"

# more.html: its assets at the root beside the landing page's (the same
# hashed names when the content is the same).
rm -rf target/pages/more
trunk build frontend/demo/more/index.html "${release[@]}" --dist target/pages/more --public-url /
for f in target/pages/more/*; do
  case "$(basename "$f")" in
    index.html) cp "$f" dist/more.html ;;
    *) cp -r "$f" dist/ ;;
  esac
done

trunk build frontend/minimal/index.html "${release[@]}" --dist dist/minimal --public-url /minimal/
