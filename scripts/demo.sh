#!/usr/bin/env bash
# Builds the demo page with trunk and serves it, with the dev server, on
# http://127.0.0.1:${PORT:-8080}, resumable (tus) uploads on. Installs any
# missing tool first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

bash scripts/setup.sh demo
log "building the demo page (trunk build --release)"
trunk build --release
report_bundle_size
bash scripts/embed-package.sh
log "building the dev server"
cargo build --release -p upload-progress-server --features cli

PORT=${PORT:-8080}
log "serving http://127.0.0.1:$PORT  (fault injection on; admin token: demo-admin; Ctrl-C stops)"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/release/upload-progress-server" \
  --addr "127.0.0.1:$PORT" --dist "$ROOT/dist" \
  --faults --tus --admin-token demo-admin --stage-ms "${STAGE_MS:-400}" "$@"
