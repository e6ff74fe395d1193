#!/usr/bin/env bash
# Runs the protocol v1 conformance kit (conformance/) against the dev server
# and the FastAPI example (examples/fastapi/). The example's virtual
# environment lives in target/fastapi-venv and is only reinstalled when
# examples/fastapi/requirements.txt changes. SERVER_BIN may name a dev server
# binary that is already built (scripts/test.sh passes its own).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
KIT="$TARGET/debug/upload-progress-conformance"
# Both servers run with a 1 s grace period, so the 4404 check waits briefly.
GRACE_MS=1000
KIT_ARGS=(--grace-wait-ms 5000)

trap 'stop_dev_server; stop_fastapi' EXIT
start=$(date +%s)

prepare_fastapi_venv

log "building the conformance kit"
cargo build -q -p upload-progress-conformance
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build -q -p upload-progress-server --features cli
  SERVER_BIN="$TARGET/debug/upload-progress-server"
fi

failed=0

start_dev_server --grace-ms "$GRACE_MS"
log "conformance: dev server at $SERVER_URL"
"$KIT" "$SERVER_URL" "${KIT_ARGS[@]}" || failed=1
stop_dev_server

GRACE_MS="$GRACE_MS" start_fastapi
log "conformance: FastAPI example at $FASTAPI_URL"
"$KIT" "$FASTAPI_URL" "${KIT_ARGS[@]}" || failed=1
stop_fastapi

if [ "$failed" -ne 0 ]; then
  log "conformance: a server failed the kit"
  exit 1
fi
log "conformance: both servers passed in $(( $(date +%s) - start )) s"
