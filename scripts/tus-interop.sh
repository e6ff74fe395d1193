#!/usr/bin/env bash
# tus interoperability with the reference implementations (npm):
#  1. tus-js-client (Node) uploads to the dev server, stopping after two
#     chunks and resuming with a new client; the job that follows the upload
#     completes with the sha256 of exactly the bytes sent;
#  2. the core upload state machine (a Rust driver in server/tests/tus.rs)
#     uploads to @tus/server + @tus/file-store on a loopback port, one answer
#     lost on the way, and the stored files are byte-identical.
# Needs node and npm; installs interop/tus with `npm ci`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

# SERVER_BIN may name a dev server binary that is already built.
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build -q -p upload-progress-server --features cli
  SERVER_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/upload-progress-server
fi
export SERVER_BIN

log "tus interop: installing the reference implementations (npm ci)"
(cd interop/tus && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)

WORK=$(mktemp -d)
REF_PID=""
cleanup() {
  stop_dev_server
  if [ -n "$REF_PID" ] && kill -0 "$REF_PID" 2>/dev/null; then
    kill "$REF_PID" 2>/dev/null || true
    wait "$REF_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

log "tus interop: tus-js-client -> dev server"
start_dev_server --tus-dir "$WORK/server" --stage-ms 20 --steps-per-stage 1 --dist "$WORK/no-dist"
(cd interop/tus && node client.mjs "$SERVER_URL" 1000000)
stop_dev_server

log "tus interop: core upload state machine -> @tus/server"
mkdir -p "$WORK/reference"
(cd interop/tus && exec node server.mjs "$WORK/reference") >"$WORK/reference.out" 2>"$WORK/reference.err" &
REF_PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^{"port":\([0-9]*\)}$/\1/p' "$WORK/reference.out" | head -n 1)
  [ -n "$PORT" ] && break
  kill -0 "$REF_PID" 2>/dev/null || { cat "$WORK/reference.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$PORT" ] || { echo "the reference server did not report its port" >&2; exit 1; }
UPR_TUS_REFERENCE_URL="http://127.0.0.1:$PORT/files" UPR_TUS_REFERENCE_DIR="$WORK/reference" \
  cargo test -q -p upload-progress-server --test tus -- --ignored --nocapture reference_server
