#!/usr/bin/env bash
# README screenshots: headless Chromium drives the trunk-built demo and embed
# pages, served by the dev server, into four states of the widget (live over
# WebSocket, reconnecting, HTTP polling, error) and saves an element
# screenshot of each.
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
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DIST=${UPR_DIST:-$ROOT/dist}
if [ ! -f "$DIST/index.html" ] || [ ! -f "$DIST/embed/index.html" ]; then
  log "no build in $DIST: trunk build --release"
  trunk build --release --dist "$DIST"
fi

if [ -z "${UPR_SERVER_BIN:-}" ]; then
  log "building the dev server"
  cargo build --release -p upload-progress-server
  UPR_SERVER_BIN="$CARGO_TARGET_DIR/release/upload-progress-server"
fi

export UPR_DIST="$DIST" UPR_SERVER_BIN
export UPR_CHROMEDRIVER=${UPR_CHROMEDRIVER:-/usr/bin/chromedriver}
export UPR_CHROMIUM=${UPR_CHROMIUM:-/usr/bin/chromium}

log "taking screenshots into $OUT"
cargo run -p upload-progress-e2e --bin screenshots -- "$OUT"
