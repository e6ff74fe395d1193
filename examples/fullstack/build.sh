#!/usr/bin/env bash
# Builds the example's browser side: the crate for wasm32 (its `hydrate`
# entry point), then wasm-bindgen's JS glue for a `<script type="module">`.
#
# Usage: examples/fullstack/build.sh [--release] [OUT_DIR]
# OUT_DIR defaults to $CARGO_TARGET_DIR/fullstack-pkg (the workspace's
# target directory). Prints OUT_DIR as its last line. With
# UPR_DENY_WARNINGS=1 (the test command) a warning in the example's own
# code fails the build; its dependencies are not affected.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
profile=debug
args=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  args=(--release)
  shift
fi
out=${1:-$TARGET_DIR/fullstack-pkg}

if [ "${UPR_DENY_WARNINGS:-0}" = 1 ]; then
  # `cargo rustc` passes the flag to this crate only.
  cargo rustc --target wasm32-unknown-unknown -p upload-progress-fullstack --lib "${args[@]}" -- -D warnings >&2
else
  cargo build --target wasm32-unknown-unknown -p upload-progress-fullstack --lib "${args[@]}" >&2
fi
# The same wasm-bindgen as the crate's (pinned in Cargo.toml): the CLI and
# the library must agree on their version.
wasm-bindgen --target web --no-typescript --out-dir "$out" \
  "$TARGET_DIR/wasm32-unknown-unknown/$profile/upload_progress_fullstack.wasm" >&2
echo "$out"
