#!/usr/bin/env bash
# The main job: install what is missing, build the pages, and start the
# backend on http://127.0.0.1:8080 (simulator mode unless WXH5_APP_ID is set).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh run
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
./scripts/build-pages.sh
cargo build --release -p wxh5-backend
exec ./target/release/wxh5
