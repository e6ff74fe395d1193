#!/usr/bin/env bash
# Runs the benchmark suite and writes BENCHMARKS.md (plus bench/storm.svg):
#   1. bundle size of the component and of a bare Leptos counter (raw, gzip, brotli, twiggy);
#   2-3. server fan-out at several subscriber counts, ours against a Socket.IO 4 peer;
#   2b. the same fan-out on two instances sharing jobs through Redis (a local redis-server);
#   4. reconnect storm (server killed and restarted), jitter on and off;
#   4b. graceful drain (SIGTERM and restart) with and without the shutdown spread;
#   5. browser-side figures in headless Chromium.
# Installs what is missing first (tools via setup.sh, twiggy, npm packages).
#
# Knobs (environment):
#   RUNS=3                          repetitions of every measured figure
#   FANOUT_SIZES="1000 5000 10000"  subscriber counts of the fan-out; bigger ones (e.g. "20000")
#                                   need a hard `ulimit -n` above the count and free local ports
#   PER_JOB=100 STEP_MS=250 STEPS_PER_STAGE=5   fan-out workload
#   STORM_CLIENTS=5000 STORM_DOWN_MS=0          storm size and server downtime
#   CLIENT_RUNS=$RUNS                browser repetitions
#   ONLY="sizes fanout storm client shootout" run a subset (the report shows the rest as not measured)
#   RESULTS=<dir>                    where the JSON results go (default $CARGO_TARGET_DIR/bench-results)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
trap 'stop_redis' EXIT
started=$(date +%s)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
RUNS=${RUNS:-3}
FANOUT_SIZES=${FANOUT_SIZES:-"1000 5000 10000"}
PER_JOB=${PER_JOB:-100}
STEP_MS=${STEP_MS:-250}
STEPS_PER_STAGE=${STEPS_PER_STAGE:-5}
STORM_CLIENTS=${STORM_CLIENTS:-5000}
STORM_DOWN_MS=${STORM_DOWN_MS:-0}
CLIENT_RUNS=${CLIENT_RUNS:-$RUNS}
ONLY=${ONLY:-"sizes fanout storm client shootout"}
RESULTS=${RESULTS:-$CARGO_TARGET_DIR/bench-results}
wants() { [[ " $ONLY " == *" $1 "* ]]; }

# Every subscriber is a socket in the load generator and one in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "file descriptor limit: $(ulimit -n)"

log "tools"
bash scripts/setup.sh test
command -v twiggy >/dev/null || cargo install twiggy --locked
(cd bench/socketio && npm ci --no-audit --no-fund --loglevel=error)
(cd bench/client && npm ci --no-audit --no-fund --loglevel=error)

log "building the dev server and the bench binary"
cargo build --release -p upload-progress-server
# The workspace release profile is tuned for wasm size (opt-level z, lto); the
# load generator must be fast instead, so it gets a speed profile of its own.
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo build --release -p upload-progress-bench
BENCH=$CARGO_TARGET_DIR/release/upload-progress-bench
SERVER=$CARGO_TARGET_DIR/release/upload-progress-server
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
# Other work on the machine adds noise to every figure; the report says how much there was.
cut -d' ' -f1-3 /proc/loadavg > "$RESULTS/loadavg.txt"

# The component's release build, kept out of dist/ so a running demo is not disturbed.
DIST=$RESULTS/dist-component
log "release build of the component (trunk build --release)"
trunk build --release --dist "$DIST"
echo "\`wasm-opt -Oz\` run by trunk for both bundles: $(wasm-opt --version) ($(command -v wasm-opt))." \
  > "$RESULTS/bundle-note.txt"

# Raised limits: the defaults (100 connections, 10 per IP) protect a demo, not a benchmark.
SERVER_ARGS=(--server-bin "$SERVER"
  --server-arg=--allow-loopback-origins --server-arg=--dist="$DIST"
  --server-arg=--max-connections=200000 --server-arg=--max-per-ip=200000
  --server-arg=--grace-ms=600000 --server-arg=--max-jobs=100000 --server-arg=--rate-limit=1000000)

section() {
  local name=$1
  shift
  log "$name"
  if ! "$@"; then
    log "$name FAILED; the report marks it as not measured"
  fi
}

bundle_sizes() {
  local name=$1 dir=$2 bin=$3 named=$RESULTS/named-$1
  rm -rf "$named"
  # wasm-bindgen keeps the name section that wasm-opt strips; twiggy needs it.
  wasm-bindgen --target web --out-dir "$named" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/$bin.wasm"
  "$BENCH" sizes --name "$name" --wasm "$dir/${bin}_bg.wasm" --js "$dir/$bin.js" \
    --named-wasm "$named/${bin}_bg.wasm" --out "$RESULTS/sizes-$name.json"
}

sizes() {
  bundle_sizes component "$DIST" demo
  (cd bench/counter && trunk build --release --dist "$RESULTS/dist-counter")
  bundle_sizes counter "$RESULTS/dist-counter" counter
}

fanout() {
  start_redis
  for n in $FANOUT_SIZES; do
    log "fan-out, $n subscribers: ours"
    "$BENCH" fanout "${SERVER_ARGS[@]}" --clients "$n" --per-job "$PER_JOB" --step-ms "$STEP_MS" \
      --steps-per-stage "$STEPS_PER_STAGE" --runs "$RUNS" --out "$RESULTS/fanout-ours-$n.json"
    log "fan-out, $n subscribers: Socket.IO"
    node bench/socketio/load.js --clients "$n" --per-job "$PER_JOB" --step-ms "$STEP_MS" \
      --steps-per-stage "$STEPS_PER_STAGE" --runs "$RUNS" --out "$RESULTS/fanout-socketio-$n.json"
    log "fan-out, $n subscribers: two instances on Redis"
    "$BENCH" fanout "${SERVER_ARGS[@]}" --clients "$n" --per-job "$PER_JOB" --step-ms "$STEP_MS" \
      --steps-per-stage "$STEPS_PER_STAGE" --runs "$RUNS" --redis-url "$REDIS_URL" \
      --out "$RESULTS/fanout-redis-$n.json"
  done
  stop_redis
}

storm() {
  "$BENCH" storm "${SERVER_ARGS[@]}" --clients "$STORM_CLIENTS" --per-job "$PER_JOB" --jitter true \
    --down-ms "$STORM_DOWN_MS" --runs "$RUNS" --out "$RESULTS/storm-jitter.json"
  "$BENCH" storm "${SERVER_ARGS[@]}" --clients "$STORM_CLIENTS" --per-job "$PER_JOB" --jitter false \
    --down-ms "$STORM_DOWN_MS" --runs "$RUNS" --out "$RESULTS/storm-nojitter.json"
  log "graceful drain (SIGTERM), shutdown spread on and off; jobs kept in Redis"
  start_redis
  "$BENCH" storm "${SERVER_ARGS[@]}" --server-arg=--shutdown-spread-ms=4000 --graceful --redis-url "$REDIS_URL" \
    --clients "$STORM_CLIENTS" --per-job "$PER_JOB" --down-ms "$STORM_DOWN_MS" --runs "$RUNS" \
    --out "$RESULTS/storm-drain-spread.json"
  "$BENCH" storm "${SERVER_ARGS[@]}" --server-arg=--shutdown-spread-ms=0 --graceful --redis-url "$REDIS_URL" \
    --clients "$STORM_CLIENTS" --per-job "$PER_JOB" --down-ms "$STORM_DOWN_MS" --runs "$RUNS" \
    --out "$RESULTS/storm-drain-nospread.json"
  stop_redis
}

client() {
  node bench/client/run.js --server "$SERVER" --dist "$DIST" --runs "$CLIENT_RUNS" --out "$RESULTS/client.json"
}

wants sizes && section "bundle sizes" sizes
wants fanout && section "server fan-out" fanout
wants storm && section "reconnect storm" storm
wants client && section "browser" client
wants shootout && section "robustness shoot-out (bench/shootout.md)" bash scripts/shootout.sh

log "writing BENCHMARKS.md"
"$BENCH" report --results "$RESULTS" --out BENCHMARKS.md --svg bench/storm.svg \
  --budget-file scripts/size-budget-gzip-bytes --runtime-s "$(( $(date +%s) - started ))"
log "done in $(( $(date +%s) - started )) s"
