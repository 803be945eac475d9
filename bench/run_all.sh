#!/usr/bin/env bash
# Runs every benchmark: each bench/*/run.sh in turn (alphabetical); stops at the first failure.
# Record the numbers in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")"
status=0
for script in */run.sh; do
  [ -f "$script" ] || continue
  echo "=================== bench/$script"
  bash "$script" || { status=$?; echo "bench/$script failed ($status)" >&2; break; }
done
exit $status
