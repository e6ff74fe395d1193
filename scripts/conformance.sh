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
VENV=${UPR_FASTAPI_VENV:-$TARGET/fastapi-venv}
REQUIREMENTS=examples/fastapi/requirements.txt
KIT="$TARGET/debug/upload-progress-conformance"
# Both servers run with a 1 s grace period, so the 4404 check waits briefly.
GRACE_MS=1000
KIT_ARGS=(--grace-wait-ms 5000)

FASTAPI_PID=
stop_fastapi() {
  if [ -n "$FASTAPI_PID" ] && kill -0 "$FASTAPI_PID" 2>/dev/null; then
    kill "$FASTAPI_PID" 2>/dev/null || true
    wait "$FASTAPI_PID" 2>/dev/null || true
  fi
  FASTAPI_PID=
}
trap 'stop_dev_server; stop_fastapi' EXIT
start=$(date +%s)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian splits venv and ensurepip out of python3; install them only when missing.
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  log "installing Debian packages: python3 python3-venv"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-venv >/dev/null
fi

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  log "FastAPI example: virtual environment in $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$want" >"$VENV/.requirements.sha256"
fi

log "building the conformance kit"
cargo build -q -p upload-progress-conformance
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build -q -p upload-progress-server
  SERVER_BIN="$TARGET/debug/upload-progress-server"
fi

failed=0

start_dev_server --grace-ms "$GRACE_MS"
log "conformance: dev server at $SERVER_URL"
"$KIT" "$SERVER_URL" "${KIT_ARGS[@]}" || failed=1
stop_dev_server

# Starts examples/fastapi/app.py on a free loopback port; sets FASTAPI_URL.
start_fastapi() {
  local out
  out=$(mktemp)
  GRACE_MS="$GRACE_MS" "$VENV/bin/python" examples/fastapi/app.py --addr 127.0.0.1:0 >"$out" 2>"$out.err" &
  FASTAPI_PID=$!
  FASTAPI_URL=
  for _ in $(seq 1 300); do
    FASTAPI_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$out" | head -n 1)
    [ -n "$FASTAPI_URL" ] && return 0
    if ! kill -0 "$FASTAPI_PID" 2>/dev/null; then
      cat "$out.err" >&2
      echo "the FastAPI example exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the FastAPI example did not report its address" >&2
  return 1
}

start_fastapi
log "conformance: FastAPI example at $FASTAPI_URL"
"$KIT" "$FASTAPI_URL" "${KIT_ARGS[@]}" || failed=1
stop_fastapi

if [ "$failed" -ne 0 ]; then
  log "conformance: a server failed the kit"
  exit 1
fi
log "conformance: both servers passed in $(( $(date +%s) - start )) s"
