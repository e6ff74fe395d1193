#!/usr/bin/env bash
# Builds and starts the full-stack example: the browser build (build.sh),
# then the server, which serves it. Open the address it prints.
#
# Usage: bash examples/fullstack/run.sh [--release] [server flags...]
# e.g.   bash examples/fullstack/run.sh --addr 127.0.0.1:8080
# Server flags: --addr, --pace-ms, --upload-dir, --allow-origin (see
# `upload-progress-fullstack --help`). By default each stage pauses
# 150 ms per tenth, so its progress is visible even for a small file.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
release=()
if [ "${1:-}" = "--release" ]; then
  release=(--release)
  shift
fi
pkg=$(bash examples/fullstack/build.sh "${release[@]}" | tail -1)
exec cargo run -q -p upload-progress-fullstack "${release[@]}" -- \
  --pkg "$pkg" --pace-ms 150 "$@"
