#!/usr/bin/env bash
# Installs what wxh5 needs and is missing; every step is skipped when its
# tool is already there. `install.sh run` installs what building and running
# need; `install.sh test` adds what the tests need (browser, driver, Redis,
# wrk), `install.sh bench` what the bench scripts need.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-run}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34m[install]\033[0m %s\n' "$*"; }

# Debian packages (only the tests and benches need any). wasm-opt is not Debian's
# binaryen: version 108 rewrites wasm-bindgen's externref table export to
# the wrong table and the page dies at start-up; npm's binaryen (below) works.
packages=()
case "$profile" in
  test) packages+=(chromium chromium-driver redis-server wrk fonts-noto-cjk) ;;
  bench) packages+=(redis-server wrk) ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# rustfmt and clippy (the test command checks formatting and lints).
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    say "rustup component add $component"
    rustup component add "$component"
  fi
done

# Python modules the tests use for outside checks, from PyPI (Debian's build
# where there is no pip): `python_module IMPORT PYPI_NAME DEBIAN_PACKAGE`.
python_module() {
  python3 -c "import $1" 2>/dev/null && return 0
  say "pip install $2"
  if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip install --quiet "$2" 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages "$2"
  else
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$3" >/dev/null
  fi
}
if [ "$profile" = test ]; then
  # `cryptography`: WeChat Pay signatures (backend/tests/pay_crosscheck.py).
  python_module cryptography cryptography python3-cryptography
  # Prometheus's own text parser: /metrics (backend/tests/metrics_parse.py).
  python_module prometheus_client prometheus_client python3-prometheus-client
fi

# The wasm32 target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Trunk 0.21 (0.22 needs a newer rustc).
if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
  say "cargo install trunk ~0.21 (about 7 minutes)"
  cargo install trunk --version '~0.21' --locked
fi

# wasm-bindgen CLI at exactly the locked version: Trunk uses it from PATH
# only then (otherwise it would try to download it). Not --locked: one of
# its locked dependencies is gone from the registry.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  say "cargo install wasm-bindgen-cli $wbg_version"
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

# WeUI, jweixin and wasm-opt (binaryen) from npm, exactly as locked.
# (A copy of the lockfile in node_modules records what was installed.)
if ! cmp -s package-lock.json node_modules/.wxh5-installed-lock.json 2>/dev/null; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.wxh5-installed-lock.json
fi
