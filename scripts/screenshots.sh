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
prepare_browser_run

log "taking screenshots into $OUT"
cargo run -p upload-progress-e2e --bin screenshots -- "$OUT"
