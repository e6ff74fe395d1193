#!/usr/bin/env bash
# Builds the embed package for pages without Leptos (embed/): the
# component crate with `csr` + `embed` as a cdylib, wasm-bindgen --target web,
# wasm-opt -Oz (binaryen 132). Output: one ES module, its wasm, the .d.ts
# files, package.json and the stylesheet, in $1 (default dist/embed/pkg),
# which is where embed/index.html imports it from. Prints the sizes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
OUT=${1:-$ROOT/dist/embed/pkg}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

log "embed package: cargo build (release, wasm32)"
# The component is a path dependency of this package, so its panic locations
# carry the checkout's absolute path; remapped, the bytes do not depend on
# where the repository lies (scripts/size-budget holds a budget near them).
RUSTFLAGS="--remap-path-prefix=$ROOT/=" cargo build --manifest-path embed/Cargo.toml --release \
  --target wasm32-unknown-unknown --target-dir "$TARGET_DIR"
raw="$TARGET_DIR/wasm32-unknown-unknown/release/upload_progress_embed.wasm"

rm -rf "$OUT"
mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" "$raw"
# wasm-streams' stream classes come with Leptos but are not this package's
# API: their JS is cut, and then their wasm exports, so that wasm-opt drops
# their code too (the script fails if the JS still names one of them).
node embed/strip-foreign-exports.mjs "$OUT/upload_progress_embed.js" "$OUT/upload_progress_embed.d.ts" \
  "$OUT/upload_progress_embed_bg.wasm.d.ts"
optimise_wasm "$OUT/upload_progress_embed_bg.wasm" --remove-exports --pass-arg='remove-exports@*intounderlying*'
minify_js "$OUT/upload_progress_embed.js"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
sed "s/@VERSION@/$version/" embed/package.json.in >"$OUT/package.json"
cp style/upload-progress.css "$OUT/"
cp embed/README.md "$OUT/" 2>/dev/null || true

wasm="$OUT/upload_progress_embed_bg.wasm"
js="$OUT/upload_progress_embed.js"
wg=$(gzip -9 -c "$wasm" | wc -c); jg=$(gzip -9 -c "$js" | wc -c)
EMBED_GZIP_TOTAL=$((wg + jg))
printf 'embed package: wasm %s B raw, %s B gzip; js %s B raw, %s B gzip; total gzip %s B\n' \
  "$(stat -c %s "$wasm")" "$wg" "$(stat -c %s "$js")" "$jg" "$EMBED_GZIP_TOTAL"
