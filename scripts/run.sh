#!/usr/bin/env bash
# The main job: install what is missing, build the pages, and start the
# backend on http://127.0.0.1:8080: against the account when WXH5_APP_ID is
# set, else explicitly against the built-in simulator (`serve --simulator`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh run
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
./scripts/build-pages.sh
cargo build --release -p wxh5-backend
if [ -n "${WXH5_APP_ID:-}" ]; then
  exec ./target/release/wxh5 serve
fi
exec ./target/release/wxh5 serve --simulator
