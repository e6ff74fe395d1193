#!/usr/bin/env bash
# Runs the benchmark suite and writes BENCHMARKS.md (plus bench/storm.svg):
#   1. bundle size of the component and of a bare Leptos counter (raw, gzip, brotli, twiggy);
#   2-3. server fan-out, ours against a Socket.IO 4 peer and against the floor (a minimal
#        writer of the same frames, bench/src/floor), all read by one neutral load
#        generator (bench/loadgen: one Node process per CPU); ours also read by the native
#        `Session` client; plus 1000 subscribers at 10 updates/s for the latency goal,
#        1000 page connections following 10 jobs each (against Socket.IO clients in 10
#        rooms) and the event stream against the job socket;
#   2b. the same fan-out on two instances sharing jobs through Redis (a local redis-server);
#   2c. idle scale: ours against Socket.IO from 1000 subscribers to the open-file limit;
#   2d. (ONLY=idle100k, not in the default run) idle connections across instances on Redis,
#       up to 100 000: IDLE_MANY_SIZES over IDLE_INSTANCES instances;
#   4. reconnect storm (server killed and restarted), jitter on and off;
#   4b. graceful drain (SIGTERM and restart) with and without the shutdown spread;
#   5. browser-side figures in headless Chromium;
#   6. robustness shoot-out (scripts/shootout.sh writes bench/shootout.md, appended as is).
# Installs what is missing first (tools via setup.sh, twiggy, npm packages).
# The default run measures the server (fan-out with its floor, page connections, the
# event stream, idle scale) in about
# 5 minutes on 2 CPUs; ONLY=... picks sections, FULL=1 measures every section, more.
#
# Knobs (environment):
#   FULL=1                          every section, 3 runs of everything, fan-out at 1000, 5000
#                                   and 10000, idle scale at 1000, 5000, 10000 and the limit
#   RUNS=1 (3 with FULL)            repetitions of the storm and browser figures
#   FANOUT_RUNS=2 (3 with FULL)     runs of ours, Socket.IO and the floor per size, alternated run by run
#   FANOUT_SIZES="10000"            subscriber counts of the fan-out ("1000 5000 10000" with FULL);
#                                   each needs a hard `ulimit -n` above the count
#   SESSION_RUNS=1 REDIS_RUNS=1     runs of the `Session`-client figure and of the Redis pair
#   REDIS_SIZES="10000"             sizes of the Redis pair (all fan-out sizes with FULL)
#   SESSION_SIZES="1000"            sizes of the `Session`-client figure (all fan-out sizes with FULL)
#   PER_JOB=100 STEP_MS=250 STEPS_PER_STAGE=5   fan-out workload
#   FAST_CLIENTS=1000 FAST_STEP_MS=100 FAST_RUNS=1   the 10 updates/s runs (latency goal; 3 with FULL)
#   STORM_CLIENTS=2000 (5000 with FULL) STORM_DOWN_MS=0   storm size and server downtime
#   CLIENT_RUNS=$RUNS                browser repetitions
#   IDLE_SIZES="1000 LIMIT"         idle-scale sizes; LIMIT = the hard open-file limit less 500
#   IDLE_RUNS=1 (2 with FULL) IDLE_S=25   runs per size and server; seconds of silence
#                                   (one ping interval of both servers)
#   IDLE_MANY_SIZES="1000 20000 100000" IDLE_INSTANCES=6 IDLE_MANY_RUNS=1   section 2d (ONLY=idle100k):
#                                   each instance, and each of the load generator's processes, stays
#                                   under the per-process open-file limit
#   PAGE_SOCKETS=1000 PAGE_JOBS=10 PAGE_RUNS=1 (3 with FULL)   page connections (/ws/page, Socket.IO in rooms),
#                                   each following PAGE_JOBS jobs
#   SSE_CLIENTS=1000 SSE_RUNS=1 (3 with FULL)   the event stream (/ws/page/events) against the job socket
#   ONLY="fanout idle" (all sections with FULL: "sizes fanout idle storm client shootout")
#                                   run a subset (the report keeps the previous
#                                   text of the sections not measured)
#   RESULTS=<dir>                    where the JSON results go (default $CARGO_TARGET_DIR/bench-results)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
trap 'stop_redis' EXIT
started=$(date +%s)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [ "${FULL:-0}" = 1 ]; then
  RUNS=${RUNS:-3}
  FANOUT_RUNS=${FANOUT_RUNS:-3}
  FANOUT_SIZES=${FANOUT_SIZES:-"1000 5000 10000"}
  SESSION_RUNS=${SESSION_RUNS:-3}
  REDIS_RUNS=${REDIS_RUNS:-3}
  REDIS_SIZES=${REDIS_SIZES:-$FANOUT_SIZES}
  SESSION_SIZES=${SESSION_SIZES:-$FANOUT_SIZES}
  FAST_RUNS=${FAST_RUNS:-3}
  STORM_CLIENTS=${STORM_CLIENTS:-5000}
  IDLE_SIZES=${IDLE_SIZES:-"1000 5000 10000 LIMIT"}
  IDLE_RUNS=${IDLE_RUNS:-2}
  PAGE_RUNS=${PAGE_RUNS:-3}
  SSE_RUNS=${SSE_RUNS:-3}
  ONLY=${ONLY:-"sizes fanout idle storm client shootout"}
fi
RUNS=${RUNS:-1}
FANOUT_RUNS=${FANOUT_RUNS:-2}
FANOUT_SIZES=${FANOUT_SIZES:-10000}
SESSION_RUNS=${SESSION_RUNS:-1}
REDIS_RUNS=${REDIS_RUNS:-1}
REDIS_SIZES=${REDIS_SIZES:-10000}
SESSION_SIZES=${SESSION_SIZES:-1000}
FAST_RUNS=${FAST_RUNS:-1}
FAST_CLIENTS=${FAST_CLIENTS:-1000}
FAST_STEP_MS=${FAST_STEP_MS:-100}
PER_JOB=${PER_JOB:-100}
STEP_MS=${STEP_MS:-250}
STEPS_PER_STAGE=${STEPS_PER_STAGE:-5}
STORM_CLIENTS=${STORM_CLIENTS:-2000}
STORM_DOWN_MS=${STORM_DOWN_MS:-0}
CLIENT_RUNS=${CLIENT_RUNS:-$RUNS}
IDLE_SIZES=${IDLE_SIZES:-"1000 LIMIT"}
IDLE_RUNS=${IDLE_RUNS:-1}
IDLE_S=${IDLE_S:-25}
PAGE_SOCKETS=${PAGE_SOCKETS:-1000}
PAGE_JOBS=${PAGE_JOBS:-10}
PAGE_RUNS=${PAGE_RUNS:-1}
SSE_CLIENTS=${SSE_CLIENTS:-1000}
SSE_RUNS=${SSE_RUNS:-1}
IDLE_MANY_SIZES=${IDLE_MANY_SIZES:-"1000 20000 100000"}
IDLE_INSTANCES=${IDLE_INSTANCES:-6}
IDLE_MANY_RUNS=${IDLE_MANY_RUNS:-1}
ONLY=${ONLY:-"fanout idle"}
RESULTS=${RESULTS:-$CARGO_TARGET_DIR/bench-results}
wants() { [[ " $ONLY " == *" $1 "* ]]; }

# Every subscriber is a socket in the load generator and one in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "file descriptor limit: $(ulimit -n)"

log "tools"
bash scripts/setup.sh test
if wants sizes; then command -v twiggy >/dev/null || cargo install twiggy --locked; fi
(cd bench/socketio && npm ci --no-audit --no-fund --loglevel=error)
# bench/loadgen has no dependencies: Node's own net and crypto.
if wants client; then (cd bench/client && npm ci --no-audit --no-fund --loglevel=error); fi

log "building the dev server and the bench binary"
cargo build --release -p upload-progress-server --features cli
# The workspace release profile is tuned for wasm size (opt-level z, lto); the
# load generator must be fast instead, so it gets a speed profile of its own.
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo build --release -p upload-progress-bench
BENCH=$CARGO_TARGET_DIR/release/upload-progress-bench
FLOOR=$CARGO_TARGET_DIR/release/fanout-floor
SERVER=$CARGO_TARGET_DIR/release/upload-progress-server
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
# Other work on the machine adds noise to every figure; the report says how much there was.
cut -d' ' -f1-3 /proc/loadavg > "$RESULTS/loadavg.txt"

# The component's release build, kept out of dist/ so a running demo is not disturbed.
# Only the sections that load pages need it; the server measurements serve no files.
DIST=$RESULTS/dist-component
mkdir -p "$DIST"
if wants sizes || wants client || wants shootout; then
  log "release build of the component (trunk build --release)"
  trunk build --release --dist "$DIST"
  echo "\`wasm-opt -Oz\` run by trunk for both bundles: $(wasm-opt --version) ($(command -v wasm-opt))." \
    > "$RESULTS/bundle-note.txt"
fi

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

# The neutral load generator; the server flags are ours only.
loadgen() { node bench/loadgen/fanout.js "$@"; }
LOADGEN_OURS=(--target ours --server-bin "$SERVER")
for arg in "${SERVER_ARGS[@]:2}"; do
  [[ $arg == --server-arg=* ]] && LOADGEN_OURS+=("$arg")
done
WORKLOAD=(--per-job "$PER_JOB" --step-ms "$STEP_MS" --steps-per-stage "$STEPS_PER_STAGE")

fanout() {
  start_redis
  for n in $FANOUT_SIZES; do
    # Ours and Socket.IO alternate run by run, so both meet the same moments of a busy machine.
    for _ in $(seq 1 "$FANOUT_RUNS"); do
      log "fan-out, $n subscribers: ours (neutral generator)"
      loadgen "${LOADGEN_OURS[@]}" "${WORKLOAD[@]}" --clients "$n" --runs 1 --accumulate \
        --out "$RESULTS/fanout-ours-$n.json"
      log "fan-out, $n subscribers: Socket.IO (neutral generator)"
      loadgen --target socketio "${WORKLOAD[@]}" --clients "$n" --runs 1 --accumulate \
        --out "$RESULTS/fanout-socketio-$n.json"
      log "fan-out, $n subscribers: the floor (neutral generator)"
      loadgen --target floor --floor-bin "$FLOOR" "${WORKLOAD[@]}" --clients "$n" --runs 1 --accumulate \
        --out "$RESULTS/fanout-floor-$n.json"
    done
    if [[ " $REDIS_SIZES " == *" $n "* ]]; then
      log "fan-out, $n subscribers: two instances on Redis (neutral generator)"
      loadgen "${LOADGEN_OURS[@]}" --instances 2 --redis-url "$REDIS_URL" "${WORKLOAD[@]}" --clients "$n" \
        --runs "$REDIS_RUNS" --out "$RESULTS/fanout-redis-$n.json"
    fi
    if [[ " $SESSION_SIZES " == *" $n "* ]]; then
      log "fan-out, $n subscribers: ours, read by the native Session client"
      "$BENCH" fanout "${SERVER_ARGS[@]}" "${WORKLOAD[@]}" --clients "$n" --runs "$SESSION_RUNS" \
        --out "$RESULTS/fanout-session-$n.json"
    fi
  done
  stop_redis
  local fast=(--per-job "$PER_JOB" --step-ms "$FAST_STEP_MS" --steps-per-stage "$STEPS_PER_STAGE" --clients "$FAST_CLIENTS")
  for _ in $(seq 1 "$FAST_RUNS"); do
    log "fan-out, $FAST_CLIENTS subscribers at a step of $FAST_STEP_MS ms: ours, then Socket.IO"
    loadgen "${LOADGEN_OURS[@]}" "${fast[@]}" --runs 1 --accumulate --out "$RESULTS/fast-ours-$FAST_CLIENTS.json"
    loadgen --target socketio "${fast[@]}" --runs 1 --accumulate --out "$RESULTS/fast-socketio-$FAST_CLIENTS.json"
  done
  for _ in $(seq 1 "$PAGE_RUNS"); do
    log "fan-out, $PAGE_SOCKETS page connections following $PAGE_JOBS jobs each: ours (/ws/page), then Socket.IO (rooms)"
    loadgen "${LOADGEN_OURS[@]}" --target page --jobs-per-socket "$PAGE_JOBS" "${WORKLOAD[@]}" --clients "$PAGE_SOCKETS" \
      --runs 1 --accumulate --out "$RESULTS/page-ours-$PAGE_SOCKETS.json"
    loadgen --target socketio --jobs-per-socket "$PAGE_JOBS" "${WORKLOAD[@]}" --clients "$PAGE_SOCKETS" \
      --runs 1 --accumulate --out "$RESULTS/page-socketio-$PAGE_SOCKETS.json"
  done
  for _ in $(seq 1 "$SSE_RUNS"); do
    log "fan-out, $SSE_CLIENTS subscribers: the job socket, then the event stream (/ws/page/events)"
    loadgen "${LOADGEN_OURS[@]}" "${WORKLOAD[@]}" --clients "$SSE_CLIENTS" --runs 1 --accumulate \
      --out "$RESULTS/sse-ours-$SSE_CLIENTS.json"
    # The later --target wins: the same server, read over its event stream.
    loadgen "${LOADGEN_OURS[@]}" --target sse "${WORKLOAD[@]}" --clients "$SSE_CLIENTS" --runs 1 --accumulate \
      --out "$RESULTS/sse-sse-$SSE_CLIENTS.json"
  done
}

idle() {
  local limit=$(( $(ulimit -Hn) - 500 ))
  for n in ${IDLE_SIZES//LIMIT/$limit}; do
    # One socket per subscriber in the server: the count must stay under its open-file limit.
    if (( n > limit )); then
      log "idle scale: $n subscribers is above the open-file limit less headroom ($limit); skipped"
      continue
    fi
    for _ in $(seq 1 "$IDLE_RUNS"); do
      log "idle scale, $n subscribers: ours, then Socket.IO (${IDLE_S} s silent)"
      loadgen "${LOADGEN_OURS[@]}" --idle-s "$IDLE_S" --per-job "$PER_JOB" --clients "$n" --runs 1 --accumulate \
        --out "$RESULTS/idle-ours-$n.json"
      loadgen --target socketio --idle-s "$IDLE_S" --per-job "$PER_JOB" --clients "$n" --runs 1 --accumulate \
        --out "$RESULTS/idle-socketio-$n.json"
    done
  done
}

# Section 2d: every instance and every load-generator process must stay under
# the hard open-file limit, and each generator process gets a loopback source
# address of its own, so the ephemeral ports (about 28 000 per address) do not run out.
idle_many() {
  local limit=$(( $(ulimit -Hn) - 500 )) n workers net=10
  start_redis
  for n in $IDLE_MANY_SIZES; do
    if (( (n + IDLE_INSTANCES - 1) / IDLE_INSTANCES > limit )); then
      log "idle across instances: $n subscribers over $IDLE_INSTANCES instances is above one instance's open-file limit ($limit); skipped"
      continue
    fi
    workers=$(( (n + limit - 1) / limit ))
    (( workers < $(nproc) )) && workers=$(nproc)
    for _ in $(seq 1 "$IDLE_MANY_RUNS"); do
      # 100 source addresses, a fresh 127.0.N.x range per run (clear of the last run's TIME_WAIT).
      net=$(( net + 1 ))
      log "idle across instances, $n subscribers: $IDLE_INSTANCES instances on Redis, $workers generator processes, sources 127.0.$net.2-101 (${IDLE_S} s silent)"
      loadgen "${LOADGEN_OURS[@]}" --instances "$IDLE_INSTANCES" --redis-url "$REDIS_URL" --workers "$workers" \
        --source-addrs 100 --source-net "127.0.$net" --ramp-batch 5000 --idle-s "$IDLE_S" --per-job "$PER_JOB" \
        --clients "$n" --runs 1 --accumulate --out "$RESULTS/idlemany-$n.json"
    done
  done
  stop_redis
}

storm() {
  # Jobs live in Redis, as in production: a server that lost them (in-memory
  # store) would rightly tell every subscriber that its job is gone.
  start_redis
  "$BENCH" storm "${SERVER_ARGS[@]}" --redis-url "$REDIS_URL" --clients "$STORM_CLIENTS" --per-job "$PER_JOB" \
    --jitter true --down-ms "$STORM_DOWN_MS" --runs "$RUNS" --out "$RESULTS/storm-jitter.json"
  "$BENCH" storm "${SERVER_ARGS[@]}" --redis-url "$REDIS_URL" --clients "$STORM_CLIENTS" --per-job "$PER_JOB" \
    --jitter false --down-ms "$STORM_DOWN_MS" --runs "$RUNS" --out "$RESULTS/storm-nojitter.json"
  log "graceful drain (SIGTERM), shutdown spread on and off; jobs kept in Redis"
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
wants idle && section "idle scale" idle
wants idle100k && section "idle connections across instances on Redis" idle_many
wants storm && section "reconnect storm" storm
wants client && section "browser" client
wants shootout && section "robustness shoot-out (bench/shootout.md)" bash scripts/shootout.sh

cut -d' ' -f1-3 /proc/loadavg > "$RESULTS/loadavg-end.txt"
log "writing BENCHMARKS.md"
"$BENCH" report --results "$RESULTS" --out BENCHMARKS.md --svg bench/storm.svg \
  --budget-file scripts/size-budget-gzip-bytes --runtime-s "$(( $(date +%s) - started ))" \
  --append bench/shootout.md
log "done in $(( $(date +%s) - started )) s"
