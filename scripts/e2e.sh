#!/usr/bin/env bash
# End-to-end suite: headless Chromium and Firefox, and WebKitGTK under Xvfb,
# drive the trunk-built demo and embed pages, served by the dev server, while
# it injects faults.
#
# Usage: scripts/e2e.sh [cargo test filter and flags after --], e.g.
#   scripts/e2e.sh                      # everything, in two lanes at once
#   UPR_E2E_LANES=1 scripts/e2e.sh      # everything, one test at a time
#   scripts/e2e.sh chromium             # only the Chromium half
#   scripts/e2e.sh soak -- --nocapture  # the soak, with its timeline
#   UPR_SOAK_SECS=600 scripts/e2e.sh soak_chromium -- --nocapture
#
# Uses dist/ (or $UPR_DIST) when it holds the build, else runs trunk; builds
# the dev server unless UPR_SERVER_BIN names a binary. For the full-stack
# example's test (when the filter can match it): builds the example's
# browser side (examples/fullstack/build.sh; a no-op when up to date) and
# its server unless UPR_FULLSTACK_BIN names a binary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

prepare_browser_run
export UPR_SOAK_SECS=${UPR_SOAK_SECS:-45}

filter=()
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  filter=("$1")
  shift
fi
[ "${1:-}" = "--" ] && shift

# cargo test filters by substring of the test name.
if [[ fullstack_example_chromium == *"${filter[0]:-}"* ]]; then
  log "full-stack example: browser build"
  fullstack_start=$(date +%s)
  UPR_FULLSTACK_PKG=$(bash examples/fullstack/build.sh "${UPR_FULLSTACK_PKG:-}" | tail -1)
  if [ -z "${UPR_FULLSTACK_BIN:-}" ]; then
    cargo build -p upload-progress-fullstack
    UPR_FULLSTACK_BIN="$CARGO_TARGET_DIR/debug/upload-progress-fullstack"
  fi
  export UPR_FULLSTACK_PKG UPR_FULLSTACK_BIN
  log "full-stack example built in $(( $(date +%s) - fullstack_start )) s"
fi

log "end-to-end suite (soak ${UPR_SOAK_SECS} s)"
start=$(date +%s)
# MiniBrowser (WebKit) has no headless mode: the suite gets a virtual X
# display; Chromium and Firefox run headless and ignore it.
run=()
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  run=(xvfb-run -a -s "-screen 0 1280x2000x24")
fi
# Every scenario runs even after one failed, so a red run names them all.
suite() {
  "${run[@]}" cargo test -p upload-progress-e2e --no-fail-fast -- --test-threads=1 "$@"
}
if [ ${#filter[@]} -gt 0 ] || [ "${UPR_E2E_LANES:-2}" = 1 ]; then
  suite "${filter[@]}" "$@"
else
  # The whole suite runs in two lanes at once, Chromium beside Firefox and
  # WebKit: a scenario mostly waits on its job's pace, so two browsers share
  # the machine's cores without slowing each other's jobs. Each lane has its
  # own servers, drivers and X display (every port is a free one).
  cargo test -p upload-progress-e2e --no-run
  lanes=$(mktemp -d)
  # Two WebKit scenarios move to the Chromium lane to even the lanes out.
  moved=(soak_webkit fault_schedule_webkit)
  suite chromium "${moved[@]}" "$@" >"$lanes/chromium.log" 2>&1 &
  chromium=$!
  suite firefox webkit "${moved[@]/#/--skip=}" "$@" >"$lanes/firefox-webkit.log" 2>&1 &
  others=$!
  failed=0
  wait "$chromium" || failed=1
  wait "$others" || failed=1
  for lane in chromium firefox-webkit; do
    log "end-to-end lane: $lane"
    cat "$lanes/$lane.log"
  done
  rm -rf "$lanes"
  [ "$failed" = 0 ] || { log "end-to-end suite FAILED after $(( $(date +%s) - start )) s"; exit 1; }
fi
log "end-to-end suite passed in $(( $(date +%s) - start )) s"
