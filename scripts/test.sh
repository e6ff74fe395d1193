#!/usr/bin/env bash
# Runs every check: formatting, clippy (native and wasm32), native tests,
# browser tests in headless Chromium and Firefox against the real dev server,
# and the release build of the demo with its size. Installs any missing tool first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
trap 'stop_dev_server; stop_fastapi; stop_redis; stop_s3' EXIT
start=$(date +%s)
# One clean build per run: incremental caches would only add disk use.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
log "disk before the run: $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free"

bash scripts/setup.sh test

log "cargo fmt --check"
cargo fmt --all -- --check

log "clippy (native, whole workspace)"
cargo clippy --workspace --all-targets -- -D warnings
log "clippy (wasm32: the component crate, the demo page)"
cargo clippy --target wasm32-unknown-unknown -p upload-progress-robust --all-targets --features csr,embed,one-job-session -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p upload-progress-demo --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p upload-progress-robust --all-targets --features hydrate -- -D warnings

log "server library: the binary's dependencies stay out of an application's build"
for features in "" --no-default-features; do
  # shellcheck disable=SC2086 # an empty $features must vanish
  if cargo tree -q -p upload-progress-server -e normal $features --prefix none \
    | grep -E '^(clap|tracing-subscriber) '; then
    echo "upload-progress-server ${features:-(default features)} depends on the above" >&2
    exit 1
  fi
done

log "native tests"
# The end-to-end crate needs the release build and browsers; it runs last.
cargo test --workspace --exclude upload-progress-e2e

log "server: instances sharing jobs and tus uploads on one real redis-server and moto_server (S3)"
start_redis
start_s3
UPR_TEST_REDIS_URL="$REDIS_URL" UPR_TEST_S3_URL="$S3_URL" \
  cargo test -p upload-progress-server --test redis_cluster --test tus_cluster -- --ignored
stop_s3
stop_redis

# The debug server built for the native tests serves the browser tests too:
# a release build would cost minutes and measure nothing here.
log "building the dev server for the browser tests"
cargo build -p upload-progress-server --features cli
SERVER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/upload-progress-server"

log "protocol conformance kit: the dev server and the FastAPI example"
SERVER_BIN="$SERVER_BIN" bash scripts/conformance.sh

log "tus interop: tus-js-client and @tus/server (npm)"
SERVER_BIN="$SERVER_BIN" bash scripts/tus-interop.sh

ADMIN_TOKEN=browser-tests-admin
start_dev_server --allow-loopback-origins --faults --admin-token "$ADMIN_TOKEN" --stage-ms 100 --require-token --tus \
  --max-connections 400 --max-per-ip 200
log "dev server at $SERVER_URL"

# One browser test follows a job on the FastAPI example (examples/fastapi/).
prepare_fastapi_venv
start_fastapi --allow-loopback-origins --test-endpoints
log "FastAPI example at $FASTAPI_URL"

export UPR_TEST_SERVER="$SERVER_URL" UPR_TEST_ADMIN_TOKEN="$ADMIN_TOKEN" UPR_TEST_FASTAPI="$FASTAPI_URL"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT=${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}

log "browser tests: headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p upload-progress-robust --features csr,embed,one-job-session
log "hydration of server-rendered markup: headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown -p upload-progress-robust --features hydrate --test hydrate

log "browser tests: headless Firefox"
GECKODRIVER=$(command -v geckodriver) cargo test --target wasm32-unknown-unknown -p upload-progress-robust --features csr,embed,one-job-session
GECKODRIVER=$(command -v geckodriver) cargo test --target wasm32-unknown-unknown -p upload-progress-robust --features hydrate --test hydrate

stop_dev_server
stop_fastapi

# Plain trunk, as a developer runs it: without the tool folders on PATH.
bash scripts/package-check.sh trunk
report_bundle_size

log "embed package for pages without Leptos (dist/embed/pkg), axe-core on its page"
bash scripts/embed-package.sh
SERVER_BIN="$SERVER_BIN" bash scripts/a11y.sh

# cargo package of every publishable crate; the embed package packed,
# installed, type-checked and bundled into dist/bundled (the e2e suite loads it).
bash scripts/package-check.sh cargo npm

log "size: what a Leptos app pays for the component, the embed package, budgets"
bash scripts/check-size.sh

log "end-to-end suite on the release build (Chromium and Firefox)"
# The full-stack example's server is the debug build the native tests made
# (its tests/server.rs needs the binary); e2e.sh builds its browser side.
UPR_SERVER_BIN="$SERVER_BIN" UPR_DENY_WARNINGS=1 \
  UPR_FULLSTACK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/upload-progress-fullstack" \
  bash scripts/e2e.sh

log "disk after the run: $(df -h --output=avail "$ROOT" | tail -1 | tr -d ' ') free, target $(du -sh "${CARGO_TARGET_DIR:-$ROOT/target}" | cut -f1)"
log "all checks passed in $(( $(date +%s) - start )) s"
