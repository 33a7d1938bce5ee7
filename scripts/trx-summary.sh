#!/usr/bin/env bash
# Sums the counters of the TRX files given (or of every TRX file in a directory given) and prints the
# closing line CI reads:  N passed, N failed, N skipped
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: trx-summary.sh DIR|FILE.trx..." >&2; exit 2; }
files=()
for arg in "$@"; do
  if [ -d "$arg" ]; then files+=("$arg"/*.trx); else files+=("$arg"); fi
done
passed=0; failed=0; total=0; executed=0
for trx in "${files[@]}"; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  total=$((total + $(get total)))
  executed=$((executed + $(get executed)))
done
skipped=$((total - executed))
[ "$skipped" -lt 0 ] && skipped=0
echo "$passed passed, $failed failed, $skipped skipped"
