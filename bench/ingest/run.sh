#!/usr/bin/env bash
# Ingestion benchmark: PutRecords (500 records × 100 bytes) over N keep-alive connections
# against `streamlake serve` with durable (fsync'd, group-committed) acknowledgement, then
# the same driver against kinesalite; prints records/s, p50/p99, the ratio, p99 at half the
# peak rate, and beside them the disk's physical limit (sequential writes + fdatasync).
#
#   bench/ingest/run.sh                       # defaults below
#   CONNECTIONS=16 DURATION=20 SHARDS=1 bench/ingest/run.sh
#
# Env: BUILD_DIR (build/release), CONNECTIONS (8), DURATION (10 s), SHARDS (4),
#      KINESALITE_DURATION (10 s), DATA_ROOT (a temp dir under BUILD_DIR: same disk as a
#      normal data dir), SKIP_KINESALITE=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build/release}
CONNECTIONS=${CONNECTIONS:-8}
DURATION=${DURATION:-10}
SHARDS=${SHARDS:-4}
KINESALITE_DURATION=${KINESALITE_DURATION:-10}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" streamlake ingest_bench disk_sync_bench >/dev/null
BIN=$BUILD_DIR/streamlake
DRIVER=$BUILD_DIR/bench/ingest/ingest_bench
DISK=$BUILD_DIR/bench/ingest/disk_sync_bench

mkdir -p "$BUILD_DIR"
WORK=$(mktemp -d "${DATA_ROOT:-$ROOT/$BUILD_DIR}/bench-ingest.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

result() {  # result FILE KEY → value from the RESULT line
  sed -n 's/^RESULT .*\b'"$2"'=\([^ ]*\).*/\1/p' "$1" | tail -1
}

echo "== disk: sequential writes + fdatasync in $WORK"
"$DISK" --dir "$WORK" --block 65536 --seconds 3 | tee "$WORK/disk64k.txt" | grep -v '^RESULT'
"$DISK" --dir "$WORK" --block 1048576 --seconds 3 | tee "$WORK/disk1m.txt" | grep -v '^RESULT'
if [ "$SHARDS" -gt 1 ]; then  # one file per shard, synced together each round
  "$DISK" --dir "$WORK" --block 262144 --seconds 3 --files "$SHARDS" | tee "$WORK/diskn.txt" | grep -v '^RESULT'
fi

# streamlake, durable (fsync on: the default)
echo "== streamlake serve (fsync on), $SHARDS shards, $CONNECTIONS connections, ${DURATION}s"
mkdir -p "$WORK/data"
"$BIN" serve --data "$WORK/data" --host 127.0.0.1 --port 0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT=$(sed -n 's/^streamlake: listening http=[0-9.]*:\([0-9]*\).*/\1/p' "$WORK/serve.out" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$PORT" ] || { echo "streamlake did not start" >&2; exit 1; }
EP=http://127.0.0.1:$PORT
CREDS=$WORK/data/credentials

"$DRIVER" --endpoint "$EP" --credentials "$CREDS" --stream bench --create-shards "$SHARDS" \
  --connections "$CONNECTIONS" --duration "$DURATION" | tee "$WORK/peak.txt" | grep -v '^RESULT'
PEAK=$(result "$WORK/peak.txt" records_per_s)
HALF=$(( ${PEAK%.*} / 2 ))
echo "== streamlake at half the peak: $HALF records/s"
"$DRIVER" --endpoint "$EP" --credentials "$CREDS" --stream bench \
  --connections "$CONNECTIONS" --duration "$DURATION" --rate "$HALF" | tee "$WORK/half.txt" | grep -v '^RESULT'
kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""

KPEAK=""
if [ "${SKIP_KINESALITE:-0}" != 1 ]; then
  KL=$ROOT/node_modules/.bin/kinesalite
  [ -x "$KL" ] || { echo "kinesalite missing: run scripts/bootstrap (npm ci)" >&2; exit 1; }
  KPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "== kinesalite (--path, leveldb on the same disk), $SHARDS shards, $CONNECTIONS connections, ${KINESALITE_DURATION}s"
  "$KL" --port "$KPORT" --path "$WORK/kinesalite" --shardLimit 1000 >"$WORK/kl.out" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"$KPORT") 2>/dev/null && break
    sleep 0.1
  done
  "$DRIVER" --endpoint "http://127.0.0.1:$KPORT" --stream bench --create-shards "$SHARDS" \
    --connections "$CONNECTIONS" --duration "$KINESALITE_DURATION" | tee "$WORK/kl.txt" | grep -v '^RESULT'
  KPEAK=$(result "$WORK/kl.txt" records_per_s)
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
fi

echo
echo "== ingestion summary ($(nproc) cores, load generator on the same machine)"
printf '  streamlake durable peak : %s records/s (p50 %s ms, p99 %s ms)\n' "$PEAK" \
  "$(result "$WORK/peak.txt" p50_ms)" "$(result "$WORK/peak.txt" p99_ms)"
printf '  at half the peak        : %s records/s offered, %s acknowledged, p50 %s ms, p99 %s ms\n' "$HALF" \
  "$(result "$WORK/half.txt" records_per_s)" "$(result "$WORK/half.txt" p50_ms)" "$(result "$WORK/half.txt" p99_ms)"
if [ -n "$KPEAK" ]; then
  printf '  kinesalite peak         : %s records/s (p50 %s ms, p99 %s ms)\n' "$KPEAK" \
    "$(result "$WORK/kl.txt" p50_ms)" "$(result "$WORK/kl.txt" p99_ms)"
  awk -v a="$PEAK" -v b="$KPEAK" 'BEGIN { if (b > 0) printf "  ratio streamlake/kinesalite: %.1fx\n", a / b }'
fi
printf '  disk limit (64 KB writes + fdatasync): %s MB/s, %s syncs/s; (1 MB): %s MB/s, %s syncs/s\n' \
  "$(result "$WORK/disk64k.txt" mb_per_s)" "$(result "$WORK/disk64k.txt" syncs_per_s)" \
  "$(result "$WORK/disk1m.txt" mb_per_s)" "$(result "$WORK/disk1m.txt" syncs_per_s)"
if [ -f "$WORK/diskn.txt" ]; then
  printf '  disk: %s files x 256 KB + concurrent fdatasync: %s rounds/s (round p50 %s ms, p99 %s ms)\n' "$SHARDS" \
    "$(result "$WORK/diskn.txt" rounds_per_s)" "$(result "$WORK/diskn.txt" round_p50_ms)" "$(result "$WORK/diskn.txt" round_p99_ms)"
fi
awk -v p="$PEAK" 'BEGIN { printf "  streamlake payload rate : %.1f MB/s of record data\n", p * 100 / 1e6 }'
echo "  targets: >= 300000 records/s durable, >= 30x kinesalite, p99 <= 20 ms at half the peak"
