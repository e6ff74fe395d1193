#!/usr/bin/env bash
# End-to-end suite: headless Chromium and Firefox drive the trunk-built demo
# and embed pages, served by the dev server, while it injects faults.
#
# Usage: scripts/e2e.sh [cargo test filter and flags after --], e.g.
#   scripts/e2e.sh                      # everything, both browsers
#   scripts/e2e.sh chromium             # only the Chromium half
#   scripts/e2e.sh soak -- --nocapture  # the soak, with its timeline
#   UPR_SOAK_SECS=600 scripts/e2e.sh soak_chromium -- --nocapture
#
# Uses dist/ (or $UPR_DIST) when it holds the build, else runs trunk; builds
# the dev server unless UPR_SERVER_BIN names a binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
DIST=${UPR_DIST:-$ROOT/dist}
if [ ! -f "$DIST/index.html" ] || [ ! -f "$DIST/embed/index.html" ]; then
  log "no build in $DIST: trunk build --release"
  trunk build --release --dist "$DIST"
fi

# A server binary given in UPR_SERVER_BIN is used as is.
if [ -z "${UPR_SERVER_BIN:-}" ]; then
  log "building the dev server"
  cargo build --release -p upload-progress-server
  UPR_SERVER_BIN="$CARGO_TARGET_DIR/release/upload-progress-server"
fi

export UPR_DIST="$DIST" UPR_SERVER_BIN
export UPR_CHROMEDRIVER=${UPR_CHROMEDRIVER:-/usr/bin/chromedriver}
export UPR_CHROMIUM=${UPR_CHROMIUM:-/usr/bin/chromium}
export UPR_GECKODRIVER=${UPR_GECKODRIVER:-$(command -v geckodriver || echo "$HOME/.cargo/bin/geckodriver")}
export UPR_FIREFOX=${UPR_FIREFOX:-$(command -v firefox-esr || command -v firefox || echo firefox)}
export UPR_SOAK_SECS=${UPR_SOAK_SECS:-45}

filter=()
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  filter=("$1")
  shift
fi
[ "${1:-}" = "--" ] && shift

log "end-to-end suite (soak ${UPR_SOAK_SECS} s)"
start=$(date +%s)
cargo test -p upload-progress-e2e -- --test-threads=1 "${filter[@]}" "$@"
log "end-to-end suite passed in $(( $(date +%s) - start )) s"
