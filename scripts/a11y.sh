#!/usr/bin/env bash
# axe-core in headless Chromium on the embed page (dist/embed/index.html with
# the embed package) and on the demo page (dist/index.html, with an uploaded
# job that lived through a dropped socket, light and dark, and no sideways
# scrolling at 360 px), served by the dev server; fails on any violation.
# Needs the build in dist/ (or $UPR_DIST) and the dev server binary
# ($SERVER_BIN, else the debug build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
DIST=${UPR_DIST:-$ROOT/dist}
SERVER_BIN=${SERVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/upload-progress-server}
[ -x "$SERVER_BIN" ] || cargo build -p upload-progress-server --features cli
if [ ! -d tools/a11y/node_modules/axe-core ]; then
  log "installing axe-core and playwright-core (tools/a11y)"
  (cd tools/a11y && npm ci --no-audit --no-fund)
fi
trap stop_dev_server EXIT
# The demo page uploads over tus and presses a fault button (with its
# default admin token); 20 steps of 1 s keep its job running through the
# dropped socket and the reconnect.
start_dev_server --dist "$DIST" --stage-ms 1000 --tus --faults --admin-token demo-admin
log "axe-core on the embed page and the demo page"
node tools/a11y/check.js "$SERVER_URL/embed/index.html" "$SERVER_URL/"
