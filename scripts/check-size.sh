#!/usr/bin/env bash
# Size of the component as users get it, gzip -9 and brotli (quality 11),
# wasm + JS, with the release profile (opt-level z, LTO), wasm-bindgen
# --target web and wasm-opt -Oz (binaryen 132):
#   - what a Leptos CSR app pays for it: bench/counter built with and without
#     the `component` feature, the difference;
#   - the embed package (dist/embed/pkg, built by scripts/embed-package.sh
#     when missing).
# Fails when a budget is exceeded (UPR_BUDGET_APP_INCREMENT_GZIP,
# UPR_BUDGET_EMBED_GZIP override them; scripts/size-budget holds them
# and the figures measured). Writes the
# figures to target/sizes.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BUDGET_APP=${UPR_BUDGET_APP_INCREMENT_GZIP:-$(sed -n "s/^app_increment_gzip=//p" scripts/size-budget)}
BUDGET_EMBED=${UPR_BUDGET_EMBED_GZIP:-$(sed -n "s/^embed_package_gzip=//p" scripts/size-budget)}
WORK="$TARGET_DIR/sizes"
mkdir -p "$WORK"

gz() { gzip -9 -c "$1" | wc -c; }
br() {
  node -e 'const z=require("zlib");const b=require("fs").readFileSync(process.argv[1]);
    process.stdout.write(String(z.brotliCompressSync(b,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_LGWIN]:22}}).length))' "$1"
}

# Builds bench/counter (with the given cargo features) into $WORK/$1.
build_counter() {
  local name=$1; shift
  # Paths remapped as in scripts/embed-package.sh: the size must not depend
  # on where the checkout lies.
  RUSTFLAGS="--remap-path-prefix=$ROOT/=" cargo build --manifest-path bench/counter/Cargo.toml --release \
    --target wasm32-unknown-unknown --target-dir "$TARGET_DIR" "$@" >&2
  rm -rf "${WORK:?}/$name"
  wasm-bindgen --target web --out-dir "$WORK/$name" --out-name app \
    "$TARGET_DIR/wasm32-unknown-unknown/release/counter.wasm"
  optimise_wasm "$WORK/$name/app_bg.wasm"
  minify_js "$WORK/$name/app.js"
}

# Prints "raw gzip brotli" of wasm + js in a directory ($2, $3: file names).
measure() {
  local w="$1/$2" j="$1/$3"
  echo "$(( $(stat -c %s "$w") + $(stat -c %s "$j") )) $(( $(gz "$w") + $(gz "$j") )) $(( $(br "$w") + $(br "$j") ))"
}

log "size: counter app"
build_counter counter
log "size: counter app with the component"
build_counter counter-component --features component
[ -f dist/embed/pkg/upload_progress_embed_bg.wasm ] || bash scripts/embed-package.sh

read -r c_raw c_gz c_br < <(measure "$WORK/counter" app_bg.wasm app.js)
read -r w_raw w_gz w_br < <(measure "$WORK/counter-component" app_bg.wasm app.js)
read -r e_raw e_gz e_br < <(measure dist/embed/pkg upload_progress_embed_bg.wasm upload_progress_embed.js)
inc_raw=$((w_raw - c_raw)); inc_gz=$((w_gz - c_gz)); inc_br=$((w_br - c_br))

{
  printf '| bundle (wasm + js) | raw | gzip -9 | brotli 11 |\n|---|---:|---:|---:|\n'
  printf '| Leptos counter app | %s | %s | %s |\n' "$c_raw" "$c_gz" "$c_br"
  printf '| the same app with the component | %s | %s | %s |\n' "$w_raw" "$w_gz" "$w_br"
  printf '| **what the app pays for the component** | **%s** | **%s** | **%s** |\n' "$inc_raw" "$inc_gz" "$inc_br"
  printf '| **embed package** | **%s** | **%s** | **%s** |\n' "$e_raw" "$e_gz" "$e_br"
} | tee "$TARGET_DIR/sizes.txt"

fail=0
if [ "$inc_gz" -gt "$BUDGET_APP" ]; then
  echo "size budget exceeded: the component adds $inc_gz B gzip to an app > $BUDGET_APP B" >&2; fail=1
else
  echo "app increment within budget: $inc_gz B gzip <= $BUDGET_APP B"
fi
if [ "$e_gz" -gt "$BUDGET_EMBED" ]; then
  echo "size budget exceeded: embed package $e_gz B gzip > $BUDGET_EMBED B" >&2; fail=1
else
  echo "embed package within budget: $e_gz B gzip <= $BUDGET_EMBED B"
fi
exit "$fail"
