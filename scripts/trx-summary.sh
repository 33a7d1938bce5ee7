#!/usr/bin/env bash
# Sums the counters of every TRX file under DIR and prints the closing line CI reads:
#   N passed, N failed, N skipped
set -euo pipefail
dir=${1:?usage: trx-summary.sh DIR}
passed=0; failed=0; total=0; executed=0
for trx in "$dir"/*.trx; do
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
