#!/usr/bin/env bash
# Checks the packages the way users get them.
#
#   cargo  `cargo package` of every publishable crate: the core, the
#          component, the server library and the conformance kit. The core
#          is also built from its packaged sources; the others are packaged
#          with --no-verify, since verifying rebuilds each one's whole
#          dependency tree outside the workspace's profile (minutes each).
#   npm    the embed package ($PKG, default dist/embed/pkg, built by
#          scripts/embed-package.sh) packed with `npm pack`, installed from
#          the tarball into a fresh project, its usage type-checked with
#          `tsc --strict` (tools/package-check/usage.ts), and a page bundled
#          with esbuild into $UPR_DIST/bundled (default dist/bundled), which
#          the end-to-end suite loads (e2e/tests/bundled_page.rs).
#   trunk  plain `trunk build --release` into dist/, with a PATH that lacks
#          the scripts' tool folders: trunk must find wasm-opt through the
#          link scripts/setup.sh puts in its tool cache, as it does for a
#          developer who runs trunk by hand.
#
# Usage: scripts/package-check.sh [cargo] [npm] [trunk]   (default: cargo npm)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# The shell as a user has it: scripts/lib.sh (sourced below) puts the tool
# folders first on PATH, so remember PATH before it.
USER_PATH=$PATH
source scripts/lib.sh

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(cargo npm)
PKG=${PKG:-$ROOT/dist/embed/pkg}
UPR_DIST=${UPR_DIST:-$ROOT/dist}
TOOLS="$ROOT/tools/package-check"

check_cargo() {
  log "cargo package: core (verified), component, server, conformance kit"
  cargo package -p upload-progress-core --allow-dirty
  # Together: the others depend on the core, which is not on crates.io yet,
  # and cargo resolves it from the packages of the same call.
  cargo package -p upload-progress-core -p upload-progress-robust -p upload-progress-server \
    -p upload-progress-conformance --no-verify --allow-dirty
}

check_npm() {
  [ -f "$PKG/package.json" ] || { echo "no embed package in $PKG: run scripts/embed-package.sh first" >&2; return 1; }
  if [ ! -x "$TOOLS/node_modules/.bin/tsc" ] || [ ! -x "$TOOLS/node_modules/.bin/esbuild" ]; then
    log "installing typescript and esbuild (npm, tools/package-check)"
    (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local work tarball
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN

  log "npm pack of the embed package"
  tarball=$(cd "$PKG" && npm pack --pack-destination "$work" --loglevel=error | tail -n 1)
  local listed
  listed=$(tar -tzf "$work/$tarball" | sort | tr '\n' ' ')
  for file in package.json upload_progress_embed.js upload_progress_embed.d.ts upload_progress_embed_bg.wasm \
    upload-progress.css; do
    case " $listed " in
      *" package/$file "*) ;;
      *) echo "the packed package lacks $file: $listed" >&2; return 1 ;;
    esac
  done

  log "a fresh TypeScript project installs the tarball: tsc --strict on its usage"
  mkdir -p "$work/app/page"
  cat >"$work/app/package.json" <<JSON
{ "name": "embed-user", "version": "1.0.0", "private": true, "type": "module" }
JSON
  (cd "$work/app" && npm install --no-audit --no-fund --loglevel=error "$work/$tarball")
  cp "$TOOLS/tsconfig.json" "$TOOLS/usage.ts" "$work/app/"
  cp "$TOOLS/page/main.ts" "$TOOLS/page/assets.d.ts" "$TOOLS/page/index.html" "$work/app/page/"
  (cd "$work/app" && "$TOOLS/node_modules/.bin/tsc" -p tsconfig.json)

  log "esbuild bundles a page from the installed package into $UPR_DIST/bundled"
  rm -rf "$UPR_DIST/bundled"
  mkdir -p "$UPR_DIST/bundled"
  (cd "$work/app" && "$TOOLS/node_modules/.bin/esbuild" page/main.ts --bundle --format=esm --target=es2022 \
    --loader:.wasm=file --minify --outdir="$UPR_DIST/bundled" --log-level=warning)
  cp "$work/app/page/index.html" "$UPR_DIST/bundled/"
  ls "$UPR_DIST/bundled"/*.wasm >/dev/null
  printf 'bundled page: %s\n' "$(cd "$UPR_DIST/bundled" && ls | tr '\n' ' ')"
}

check_trunk() {
  log "plain trunk build --release (PATH without the scripts' tool folders)"
  local plain=
  local dir
  IFS=: read -r -a dirs <<<"$USER_PATH"
  for dir in "${dirs[@]}"; do
    case "$dir" in "$ROOT"/tools/*) continue ;; esac
    plain=${plain:+$plain:}$dir
  done
  # cargo, rustc and wasm-bindgen live in ~/.cargo/bin for a rustup user.
  case ":$plain:" in *":$HOME/.cargo/bin:"*) ;; *) plain="$HOME/.cargo/bin:$plain" ;; esac
  local cached="${XDG_CACHE_HOME:-$HOME/.cache}/trunk/wasm-opt-version_132/bin/wasm-opt"
  [ -L "$cached" ] || { echo "no wasm-opt link in trunk's tool cache ($cached): run scripts/setup.sh" >&2; return 1; }
  env PATH="$plain" trunk build --release
  [ -L "$cached" ] || { echo "trunk replaced its wasm-opt link" >&2; return 1; }
}

for step in "${steps[@]}"; do
  case "$step" in
    cargo) check_cargo ;;
    npm) check_npm ;;
    trunk) check_trunk ;;
    *) echo "unknown step $step (cargo, npm, trunk)" >&2; exit 2 ;;
  esac
done
