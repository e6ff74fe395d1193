# Helpers shared by demo.sh and test.sh (sourced, not run).

# tools/wasm-opt first: trunk must find binaryen 132, not an older system wasm-opt.
export PATH="$ROOT/tools/wasm-opt/node_modules/.bin:$ROOT/tools/minify/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# trunk must not look for a newer version of itself: the network only reaches package registries.
export TRUNK_SKIP_VERSION_CHECK=true

log() { printf '\n==> [%s] %s\n' "$(date +%T)" "$*" >&2; }

# wasm-opt -Oz in place, with the features current rustc emits named so
# wasm-opt accepts the module. Further arguments are passes run first.
optimise_wasm() {
  local file=$1
  shift
  wasm-opt "$@" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue "$file" -o "$file"
}

# Minifies wasm-bindgen's JS module in place, as a published package ships
# it (its exports keep their names).
minify_js() {
  terser "$1" --module --compress --mangle --output "$1"
}

# Runs "$@" in the background and waits until it prints
# `listening on http://...` on stdout; sets LISTEN_URL, LISTEN_PID and
# LISTEN_LOG (its stderr). $1 names it in error messages.
start_listening() {
  local what=$1 out
  shift
  out=$(mktemp)
  "$@" >"$out" 2>"$out.err" &
  LISTEN_PID=$!
  LISTEN_URL=
  for _ in $(seq 1 300); do
    LISTEN_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$out" | head -n 1)
    [ -n "$LISTEN_URL" ] && break
    if ! kill -0 "$LISTEN_PID" 2>/dev/null; then
      cat "$out.err" >&2
      echo "$what exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  [ -n "$LISTEN_URL" ] || { echo "$what did not report its address" >&2; return 1; }
  LISTEN_LOG="$out.err"
}

# Stops the background process $1 (a pid, or empty) and waits for it.
stop_pid() {
  if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}

# Starts the dev server ($SERVER_BIN) with the given flags plus an OS-chosen
# port; sets SERVER_URL, SERVER_PID and SERVER_LOG.
start_dev_server() {
  start_listening "dev server" "$SERVER_BIN" --addr 127.0.0.1:0 "$@" || return 1
  SERVER_URL=$LISTEN_URL SERVER_PID=$LISTEN_PID SERVER_LOG=$LISTEN_LOG
  export SERVER_URL SERVER_PID SERVER_LOG
}

stop_dev_server() {
  stop_pid "${SERVER_PID:-}"
}

# Starts one redis-server on a free loopback port, with no persistence (its
# working directory is a fresh temporary one), and sets REDIS_URL and REDIS_PID.
start_redis() {
  REDIS_DIR=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
    >"$REDIS_DIR/log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    if ! kill -0 "$REDIS_PID" 2>/dev/null; then
      cat "$REDIS_DIR/log" >&2
      echo "redis-server exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  REDIS_URL="redis://127.0.0.1:$port"
  export REDIS_URL REDIS_PID
}

stop_redis() {
  stop_pid "${REDIS_PID:-}"
  [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
  REDIS_PID=
}

# Starts an S3-compatible server (moto_server, from PyPI: moto with its S3
# parts and the Flask server it runs on, in its own
# virtual environment: $UPR_MOTO_VENV, else target/moto-venv, installed
# once) on a free loopback port; sets S3_URL and S3_PID.
start_s3() {
  local venv=${UPR_MOTO_VENV:-${CARGO_TARGET_DIR:-$ROOT/target}/moto-venv} port
  if [ ! -x "$venv/bin/moto_server" ]; then
    log "installing moto (S3) and Flask (PyPI) into $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check 'moto[s3]==5.*' 'flask==3.*' 'flask-cors==6.*'
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  S3_LOG=$(mktemp)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$S3_LOG" 2>&1 &
  S3_PID=$!
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    if ! kill -0 "$S3_PID" 2>/dev/null; then
      cat "$S3_LOG" >&2
      echo "moto_server exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  S3_URL="http://127.0.0.1:$port"
  export S3_URL S3_PID
}

stop_s3() {
  stop_pid "${S3_PID:-}"
  [ -n "${S3_LOG:-}" ] && rm -f "$S3_LOG"
  S3_PID= S3_LOG=
}

# Prints raw and gzipped sizes of the release bundle in dist/.
report_bundle_size() {
  local wasm js
  wasm=$(ls "$ROOT"/dist/*.wasm | head -n 1)
  js=$(ls "$ROOT"/dist/*.js | head -n 1)
  local wr wg jr jg
  wr=$(stat -c %s "$wasm"); wg=$(gzip -9 -c "$wasm" | wc -c)
  jr=$(stat -c %s "$js"); jg=$(gzip -9 -c "$js" | wc -c)
  printf 'bundle: wasm %s B raw, %s B gzip; js %s B raw, %s B gzip; total gzip %s B\n' \
    "$wr" "$wg" "$jr" "$jg" "$((wg + jg))"
  BUNDLE_GZIP_TOTAL=$((wg + jg))
}

# Sets the UPR_* paths the WebDriver programs in e2e/ read: the release build
# (dist/, or $UPR_DIST; built with trunk when missing), the dev server binary
# ($UPR_SERVER_BIN is used as is, else a release build), drivers and browsers.
prepare_browser_run() {
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
  export UPR_DIST=${UPR_DIST:-$ROOT/dist}
  if [ ! -f "$UPR_DIST/index.html" ] || [ ! -f "$UPR_DIST/embed/index.html" ]; then
    log "no build in $UPR_DIST: trunk build --release"
    trunk build --release --dist "$UPR_DIST"
  fi
  # The embed page loads the embed package (scripts/embed-package.sh).
  if [ ! -f "$UPR_DIST/embed/pkg/upload_progress_embed.js" ]; then
    bash "$ROOT/scripts/embed-package.sh" "$UPR_DIST/embed/pkg"
  fi
  # The bundled page installs that package from its tarball (scripts/package-check.sh).
  if [ ! -f "$UPR_DIST/bundled/index.html" ]; then
    PKG="$UPR_DIST/embed/pkg" UPR_DIST="$UPR_DIST" bash "$ROOT/scripts/package-check.sh" npm
  fi
  if [ -z "${UPR_SERVER_BIN:-}" ]; then
    log "building the dev server"
    cargo build --release -p upload-progress-server --features cli
    UPR_SERVER_BIN="$CARGO_TARGET_DIR/release/upload-progress-server"
  fi
  export UPR_SERVER_BIN
  export UPR_CHROMEDRIVER=${UPR_CHROMEDRIVER:-/usr/bin/chromedriver}
  export UPR_CHROMIUM=${UPR_CHROMIUM:-/usr/bin/chromium}
  export UPR_GECKODRIVER=${UPR_GECKODRIVER:-$(command -v geckodriver || echo "$HOME/.cargo/bin/geckodriver")}
  export UPR_FIREFOX=${UPR_FIREFOX:-$(command -v firefox-esr || command -v firefox || echo firefox)}
}

# The FastAPI example (examples/fastapi/). Its virtual environment lives in
# $FASTAPI_VENV (default $UPR_FASTAPI_VENV, else target/fastapi-venv) and is
# only reinstalled when examples/fastapi/requirements.txt changes; python3 and
# python3-venv come from apt when missing (Debian splits venv and ensurepip out).
prepare_fastapi_venv() {
  FASTAPI_VENV=${UPR_FASTAPI_VENV:-${CARGO_TARGET_DIR:-$ROOT/target}/fastapi-venv}
  local requirements="$ROOT/examples/fastapi/requirements.txt" want
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    log "installing Debian packages: python3 python3-venv"
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3 python3-venv >/dev/null
  fi
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ ! -x "$FASTAPI_VENV/bin/python" ] || [ "$(cat "$FASTAPI_VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    log "FastAPI example: virtual environment in $FASTAPI_VENV"
    [ -x "$FASTAPI_VENV/bin/python" ] || python3 -m venv "$FASTAPI_VENV"
    "$FASTAPI_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    echo "$want" >"$FASTAPI_VENV/.requirements.sha256"
  fi
  export FASTAPI_VENV
}

# Starts examples/fastapi/app.py (after prepare_fastapi_venv) on a free
# loopback port with the given flags; the environment (GRACE_MS) passes
# through. Waits until it prints its address; sets FASTAPI_URL and FASTAPI_PID.
start_fastapi() {
  start_listening "the FastAPI example" \
    "$FASTAPI_VENV/bin/python" "$ROOT/examples/fastapi/app.py" --addr 127.0.0.1:0 "$@" || return 1
  FASTAPI_URL=$LISTEN_URL FASTAPI_PID=$LISTEN_PID FASTAPI_LOG=$LISTEN_LOG
  export FASTAPI_URL FASTAPI_PID FASTAPI_LOG
}

stop_fastapi() {
  stop_pid "${FASTAPI_PID:-}"
  FASTAPI_PID=
}
