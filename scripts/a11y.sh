#!/usr/bin/env bash
# axe-core on the embed page (dist/embed/index.html with the embed package)
# in headless Chromium, served by the dev server; fails on any violation.
# Needs the build in dist/ (or $UPR_DIST) and the dev server binary
# ($SERVER_BIN, else the debug build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
DIST=${UPR_DIST:-$ROOT/dist}
SERVER_BIN=${SERVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/upload-progress-server}
[ -x "$SERVER_BIN" ] || cargo build -p upload-progress-server
if [ ! -d tools/a11y/node_modules/axe-core ]; then
  log "installing axe-core and playwright-core (tools/a11y)"
  (cd tools/a11y && npm ci --no-audit --no-fund)
fi
trap stop_dev_server EXIT
start_dev_server --dist "$DIST" --stage-ms 100
log "axe-core on the embed page"
node tools/a11y/check.js "$SERVER_URL/embed/index.html"
