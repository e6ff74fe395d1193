#!/usr/bin/env bash
# Robustness shoot-out: the same job and the same fault schedule (drops,
# refused upgrades, a stall, a server restart, offline) against four browser
# clients at once in headless Chromium: our component (embed package),
# leptos-use's use_websocket, socket.io-client and partysocket. Writes
# shootout/results/<profile>.json, bench/shootout.md and its timeline SVGs
# (bench/shootout.svg, bench/shootout-full.svg); BENCHMARKS.md includes
# bench/shootout.md as its last section.
#
# Knobs (environment):
#   FULL=1        the issue's full schedule (refuse 20 s, stall 60 s, offline 30 s; about 3 min per run)
#                 instead of the compressed default (refuse 8 s, stall 15 s, offline 8 s; about 70 s per run)
#   SEEDS=1,2     seeds of the runs (default 1, so the default bench stays short; with FULL=1, 1,2,3)
# Installs what is missing first (tools via setup.sh, npm packages).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
trap 'stop_redis' EXIT
started=$(date +%s)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [ "${FULL:-0}" = 1 ]; then PROFILE=full SEEDS=${SEEDS:-1,2,3}; else PROFILE=compressed SEEDS=${SEEDS:-1}; fi
WORK=$CARGO_TARGET_DIR/shootout

log "tools"
for tool in wasm-bindgen chromium redis-server node; do
  command -v "$tool" >/dev/null || { bash scripts/setup.sh test; break; }
done
(cd shootout && npm ci --no-audit --no-fund --loglevel=error)

log "building the dev server, the embed package and the leptos-use page"
cargo build --release -p upload-progress-server --features cli
EMBED=$WORK/embed-pkg
# The embed package is rebuilt only when its sources changed (wasm-opt takes a while).
if [ ! -f "$EMBED/upload_progress_embed.js" ] \
  || [ -n "$(find src core/src embed style Cargo.lock -newer "$EMBED/upload_progress_embed.js" -print -quit)" ]; then
  bash scripts/embed-package.sh "$EMBED"
fi
cargo build --manifest-path shootout/leptos-use/Cargo.toml --locked --release --target wasm32-unknown-unknown
wasm-bindgen --target web --no-typescript --out-dir "$WORK/leptos-use" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/shootout_leptos_use.wasm"

start_redis
log "shoot-out: $PROFILE schedule, seeds $SEEDS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
node shootout/run.js --profile "$PROFILE" --seeds "$SEEDS" \
  --server-bin "$CARGO_TARGET_DIR/release/upload-progress-server" --redis-url "$REDIS_URL" \
  --embed "$EMBED" --leptos-use "$WORK/leptos-use" --out "shootout/results/$PROFILE.json"
stop_redis

node shootout/report.js --compressed shootout/results/compressed.json --full shootout/results/full.json \
  --md bench/shootout.md --svg-dir bench
log "shoot-out done in $(( $(date +%s) - started )) s: bench/shootout.md"
