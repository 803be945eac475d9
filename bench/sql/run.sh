#!/usr/bin/env bash
# SQL engine benchmark: streamlake vs DuckDB (@duckdb/node-api) on the same generated
# 10M-row table (zipcode, product, price, ts) and 50-row products table, THREADS threads
# each; prints per-query best-of-REPS times, the ratio streamlake/DuckDB and the geometric
# mean of the ratios. Loading is not timed. Fingerprints (result rows and the sum of the
# integer cells) must agree between the engines.
#
#   bench/sql/run.sh
#   ROWS=1000000 REPS=3 THREADS=2 bench/sql/run.sh
#
# Env: BUILD_DIR (build/release), ROWS (10000000), THREADS (2), REPS (5), ONLY (a query name).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/release}
ROWS=${ROWS:-10000000}
THREADS=${THREADS:-2}
REPS=${REPS:-5}
ONLY=${ONLY:-}

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target sql_bench -j2 >/dev/null
[ -d node_modules/@duckdb/node-api ] || npm ci >/dev/null

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
SL_OUT=$(mktemp)
DK_OUT=$(mktemp)
trap 'rm -f "$SL_OUT" "$DK_OUT"' EXIT
ONLY_FLAG=()
[ -n "$ONLY" ] && ONLY_FLAG=(--only "$ONLY")
"$BUILD_DIR/bench/sql/sql_bench" --queries bench/sql/queries.tsv --rows "$ROWS" --threads "$THREADS" \
  --reps "$REPS" "${ONLY_FLAG[@]}" >"$SL_OUT"
node bench/sql/duckdb_bench.mjs "$ROWS" "$THREADS" "$REPS" bench/sql/queries.tsv "$ONLY" >"$DK_OUT"

awk -F'\t' -v rows="$ROWS" -v threads="$THREADS" '
  NR == FNR { sl[$1] = $2; slfp[$1] = $3; order[++n] = $1; next }
  { dk[$1] = $2; dkfp[$1] = $3 }
  END {
    printf "%d rows, %d threads, best of N\n", rows, threads
    printf "%-14s %12s %12s %8s  %s\n", "query", "streamlake", "duckdb", "ratio", "results"
    logsum = 0; bad = 0
    for (i = 1; i <= n; i++) {
      q = order[i]; r = sl[q] / dk[q]; logsum += log(r)
      same = (slfp[q] == dkfp[q]) ? "same" : "DIFFER (" slfp[q] " vs " dkfp[q] ")"
      if (slfp[q] != dkfp[q]) bad = 1
      printf "%-14s %9.1f ms %9.1f ms %8.2f  %s\n", q, sl[q], dk[q], r, same
    }
    printf "geometric mean of ratios: %.2f\n", exp(logsum / n)
    exit bad
  }' "$SL_OUT" "$DK_OUT"
