#!/usr/bin/env bash
# Installs every tool the demo and the tests need, idempotently: each tool is
# checked (and its version compared) before anything is installed, so a second
# run on the same machine costs a few seconds.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

export PATH="$HOME/.cargo/bin:$PATH"

# Which parts are wanted: "demo" needs the build tools only; "test" adds the browsers.
want_browsers=1
[ "${1:-test}" = demo ] && want_browsers=0

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

apt_pkgs=()
command -v node >/dev/null || apt_pkgs+=(nodejs npm)
# The Redis tests of the dev server start their own redis-server (no system service).
command -v redis-server >/dev/null || apt_pkgs+=(redis-server)
if [ "$want_browsers" = 1 ]; then
  command -v chromium >/dev/null || apt_pkgs+=(chromium)
  command -v chromedriver >/dev/null || apt_pkgs+=(chromium-driver)
  command -v firefox-esr >/dev/null || command -v firefox >/dev/null || apt_pkgs+=(firefox-esr)
  # WebKit: WebKitGTK's WebDriver and MiniBrowser, which needs an X display (Xvfb).
  command -v WebKitWebDriver >/dev/null || apt_pkgs+=(webkit2gtk-driver)
  command -v xvfb-run >/dev/null || apt_pkgs+=(xvfb xauth)
fi
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  log "installing Debian packages: ${apt_pkgs[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi

have_version() { # tool expected-version
  command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -qF "$2"
}

if ! have_version wasm-bindgen "$WASM_BINDGEN_VERSION" || ! have_version wasm-bindgen-test-runner "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # No --locked: the CLI's own lockfile names a crate version the registry lacks.
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if ! have_version trunk "$TRUNK_VERSION"; then
  log "installing trunk $TRUNK_VERSION"
  # --locked is required: without it trunk 0.21 resolves dependencies that do not compile.
  cargo install -q trunk --version "$TRUNK_VERSION" --locked --force
fi
if [ "$want_browsers" = 1 ] && ! command -v geckodriver >/dev/null; then
  log "installing geckodriver"
  cargo install -q geckodriver --locked
fi
# wasm-opt comes from npm (binaryen 132): Debian's binaryen 108 rewrites the
# export of wasm-bindgen's externref table and the optimised page fails to start.
WASM_OPT_DIR="$(cd "$(dirname "$0")/.." && pwd)/tools/wasm-opt"
if ! "$WASM_OPT_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q 'version 132'; then
  log "installing wasm-opt (binaryen 132 from npm)"
  (cd "$WASM_OPT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
# terser from npm minifies the wasm-bindgen JS of the embed package and of
# the builds the size check measures.
MINIFY_DIR="$(cd "$(dirname "$0")/.." && pwd)/tools/minify"
if ! "$MINIFY_DIR/node_modules/.bin/terser" --version 2>/dev/null | grep -q '5.51.4'; then
  log "installing terser (npm)"
  (cd "$MINIFY_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
# TypeScript and esbuild from npm check the packed embed package as a user
# installs it (scripts/package-check.sh).
PACKAGE_CHECK_DIR="$(cd "$(dirname "$0")/.." && pwd)/tools/package-check"
if ! "$PACKAGE_CHECK_DIR/node_modules/.bin/tsc" --version 2>/dev/null | grep -q '7.0.2' \
  || ! "$PACKAGE_CHECK_DIR/node_modules/.bin/esbuild" --version 2>/dev/null | grep -q '0.28.2'; then
  log "installing typescript and esbuild (npm)"
  (cd "$PACKAGE_CHECK_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
# Plain `trunk build` / `trunk serve` (without scripts/lib.sh's PATH) look for
# Trunk.toml's wasm_opt version in trunk's tool cache before downloading it:
# a link there to the npm binary makes them work offline.
TRUNK_WASM_OPT="${XDG_CACHE_HOME:-$HOME/.cache}/trunk/wasm-opt-version_132/bin/wasm-opt"
if [ "$(readlink "$TRUNK_WASM_OPT" 2>/dev/null)" != "$WASM_OPT_DIR/node_modules/.bin/wasm-opt" ]; then
  mkdir -p "$(dirname "$TRUNK_WASM_OPT")"
  ln -sfn "$WASM_OPT_DIR/node_modules/.bin/wasm-opt" "$TRUNK_WASM_OPT"
fi
log "tools ready"
