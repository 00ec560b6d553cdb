#!/usr/bin/env bash
# `npm run test:stress`: the README's test command (`npm test`) RUNS times (default 5) with every CPU
# saturated by stress-ng (Debian package `stress-ng`), as on a busy shared CI machine. Prints one line per
# run and exits non-zero unless every run passed. Logs: $LOG_DIR (default a temporary folder).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
log_dir=${LOG_DIR:-$(mktemp -d)}
command -v stress-ng >/dev/null || { echo 'stress-ng is missing: apt-get install -y stress-ng' >&2; exit 2; }
stress-ng --cpu "$(nproc)" --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null; wait "$stress" 2>/dev/null' EXIT
passed=0
for i in $(seq 1 "$runs"); do
  started=$(date +%s)
  if npm test >"$log_dir/run-$i.log" 2>&1; then passed=$((passed + 1)); result=pass; else result=FAIL; fi
  echo "run $i/$runs: $result in $(($(date +%s) - started)) s ($log_dir/run-$i.log)"
done
echo "$passed/$runs runs passed with $(nproc) CPUs saturated"
[ "$passed" -eq "$runs" ]
