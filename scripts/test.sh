#!/usr/bin/env bash
# Every test: install what is missing, build the page, run the Rust tests
# (unit, integration, end-to-end in headless Chromium) and the page's
# wasm-bindgen tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh test
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CHROME="${CHROME:-/usr/bin/chromium}"

trunk build --release
cargo test --workspace
cargo test -p wxh5-frontend --target wasm32-unknown-unknown
