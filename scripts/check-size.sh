#!/usr/bin/env bash
# Fails when the gzipped release bundle (wasm + JS glue) outgrows its budget.
set -euo pipefail
total=$1
budget=${UPR_SIZE_BUDGET_GZIP:-$(cat "$(dirname "$0")/size-budget-gzip-bytes")}
if [ "$total" -gt "$budget" ]; then
  echo "bundle size budget exceeded: $total B gzip > $budget B" >&2
  exit 1
fi
echo "bundle size within budget: $total B gzip <= $budget B"
