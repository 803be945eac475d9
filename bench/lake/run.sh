#!/usr/bin/env bash
# Parquet write benchmark: ROWS records of the AWS solution's shape (zipcode int, product
# text, price int, ts timestamp), the same rows in both engines (a pure function of the row
# index), written to one Parquet file (CODEC, default zstd) by streamlake's writer and by
# DuckDB's COPY ... TO, alternating, REPS runs each; prints the median write time, rows/s,
# MB/s of the rows' plain size (4 + len(product) + 4 + 8 = 24.92 bytes per row on average), the file sizes and
# the ratios. Generating the rows is not timed on either side.
#
#   bench/lake/run.sh
#   ROWS=1000000 REPS=3 bench/lake/run.sh
#
# Env: BUILD_DIR (build/release), ROWS (10000000), REPS (3), CODEC (zstd), THREADS (DuckDB
# threads, 2), OUT (a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/release}
ROWS=${ROWS:-10000000}
REPS=${REPS:-3}
CODEC=${CODEC:-zstd}
THREADS=${THREADS:-2}
OUT=${OUT:-$(mktemp -d)}
trap 'rm -rf "$OUT"' EXIT

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target parquet_write_bench -j2 >/dev/null
[ -d node_modules/@duckdb/node-api ] || npm ci >/dev/null

echo "machine: $(nproc) cores, load $(cat /proc/loadavg)"
echo "commit $(git rev-parse --short HEAD), $ROWS rows, $CODEC, DuckDB threads $THREADS, $REPS runs each (alternating)"
RES=$OUT/results.tsv
: >"$RES"
for r in $(seq 1 "$REPS"); do
  "$BUILD_DIR/bench/lake/parquet_write_bench" "$ROWS" "$OUT/sl.parquet" "$CODEC" | tee -a "$RES"
  rm -f "$OUT/sl.parquet"
  node bench/lake/duckdb_write.mjs "$ROWS" "$OUT/dk.parquet" "$CODEC" "$THREADS" | tee -a "$RES"
  rm -f "$OUT/dk.parquet"
done
echo "load after: $(cat /proc/loadavg)"

# Plain bytes per row: 4 + 4 + 8 and the product text ('product1'..'product100').
awk -F'\t' -v rows="$ROWS" '
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { if ($1 == "streamlake") { sl[++ns] = $2; slb = $3 } else { dk[++nd] = $2; dkb = $3 } }
  END {
    plain = rows * (16 + 8.92)  # "product" + 1..3 digits: 8.92 bytes on average
    s = median(sl, ns); d = median(dk, nd)
    printf "%-11s %10s %14s %10s %14s\n", "engine", "median ms", "rows/s", "MB/s", "file bytes"
    printf "%-11s %10.1f %14.0f %10.1f %14d\n", "streamlake", s, rows / (s / 1000), plain / 1e6 / (s / 1000), slb
    printf "%-11s %10.1f %14.0f %10.1f %14d\n", "duckdb", d, rows / (d / 1000), plain / 1e6 / (d / 1000), dkb
    printf "write rate streamlake/duckdb: %.2f (target >= 1.0)\n", d / s
    printf "file size streamlake/duckdb: %.2f (target <= 1.2)\n", slb / dkb
  }' "$RES"
