#!/usr/bin/env bash
# README screenshots, in headless Chromium against the trunk-built pages
# served by the dev server:
# - the widget in four states (live over WebSocket, reconnecting, HTTP
#   polling, error), element shots taken over WebDriver by the e2e crate's
#   `screenshots` binary;
# - the whole demo page (a job that lived through a dropped socket and an
#   upload in progress) and a job card at 360 px, taken with playwright-core
#   by tools/a11y/shots.js.
#
# Usage: scripts/screenshots.sh [OUT_DIR]   (default docs/screenshots)
#
# Uses dist/ (or $UPR_DIST) when it holds the build, else runs trunk; builds
# the dev server unless UPR_SERVER_BIN names a binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

OUT=${1:-$ROOT/docs/screenshots}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
prepare_browser_run

log "taking the widget screenshots into $OUT"
cargo run -p upload-progress-e2e --bin screenshots -- "$OUT"

if [ ! -d tools/a11y/node_modules/playwright-core ]; then
  log "installing axe-core and playwright-core (tools/a11y)"
  (cd tools/a11y && npm ci --no-audit --no-fund)
fi
# 20 steps of 1.5 s: the first job is still mid-way when the page is shot.
SERVER_BIN=$UPR_SERVER_BIN
trap stop_dev_server EXIT
start_dev_server --dist "$UPR_DIST" --stage-ms 1500 --tus --faults --admin-token demo-admin
log "taking the demo page screenshots into $OUT"
node tools/a11y/shots.js "$SERVER_URL" "$OUT"
