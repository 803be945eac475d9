#!/usr/bin/env bash
# End-to-end latency: PutRecords acknowledgement → row visible in the `products` view, at
# 10,000 records/s through the Kinesis API (boto3 producers, durable acknowledgement).
# Target (issue 4): p99 ≤ 100 ms. See bench/latency/latency.py for the method.
#
#   bench/latency/run.sh                      # 10,000 records/s for 30 s
#   RATE=20000 DURATION=60 bench/latency/run.sh
#
# Env: BUILD_DIR (build/release), RATE (10000), DURATION (30), PRODUCERS (2), SHARDS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/release}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" streamlake >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exec /usr/bin/python3 bench/latency/latency.py --bin "$BUILD_DIR/streamlake" \
  --rate "${RATE:-10000}" --duration "${DURATION:-30}" --producers "${PRODUCERS:-2}" --shards "${SHARDS:-2}"
