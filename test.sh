#!/usr/bin/env bash
# Runs every test project once, against real servers: one throw-away PostgreSQL cluster for the whole
# run (exported as RELAY_TEST_PG); the DNS world, Postfix peers and browsers are started by the tests.
# Ends with one line: "N passed, N failed, N skipped". Exit status is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"
configuration=${CONFIGURATION:-Release}
results=artifacts/test-results
rm -rf "$results"; mkdir -p "$results"

dotnet build relay.sln -c "$configuration" -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

pgdir=$(mktemp -d /tmp/relay-test-pg.XXXXXX)
cleanup() { scripts/pg-cluster.sh stop "$pgdir"; rm -rf "$pgdir"; }
trap cleanup EXIT
RELAY_TEST_PG=$(scripts/pg-cluster.sh start "$pgdir") || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
export RELAY_TEST_PG

status=0
for project in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  # A hung test must not eat CI's time: blame-hang stops the run and names the test.
  if ! dotnet test "$project" -c "$configuration" --no-build -nologo \
        --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
        --results-directory "$results" --blame-hang-timeout 10m >"$results/$name.log" 2>&1; then
    status=1
    # The lines after "Error Message:" are the assertion's own words: show them, not only the stack.
    grep -E -A3 "^\s+(Failed|Error Message)|error|Test Run Aborted" "$results/$name.log" | head -n 80
    [ -f "$results/$name.trx" ] || { echo "$name: no results (the test host crashed?)"; tail -n 30 "$results/$name.log"; }
  fi
  [ -f "$results/$name.trx" ] && echo "$name: $(scripts/trx-summary.sh "$results/$name.trx")"
  # The resilience suite's figures (sent, acknowledged, delivered, duplicates, lost, recovery) live in its test output.
  [ -f "$results/$name.trx" ] && grep -o 'resilience: [^<]*' "$results/$name.trx" | sed 's/&amp;/\&/g; s/&gt;/>/g; s/&lt;/</g' | sort -u
done

summary=$(scripts/trx-summary.sh "$results")
if [ "$status" -ne 0 ] && [[ "$summary" == *" 0 failed"* ]]; then
  # a project failed without a TRX failure count (crash, hang): never report it as all green
  summary=$(echo "$summary" | sed 's/ 0 failed/ 1 failed/')
fi
echo "$summary"
exit $status
