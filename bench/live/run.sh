#!/usr/bin/env bash
# Live results, server side: PutRecords acknowledgement → the notebook's pushed result
# (GET /v1/live) that includes the record, at 1,000 records/s. See live_latency.py.
#
# Env: BUILD_DIR (build/release), RATE (1000), DURATION (20), INTERVAL_MS (250).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/release}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" streamlake >/dev/null
exec /usr/bin/python3 bench/live/live_latency.py --bin "$BUILD_DIR/streamlake" \
  --rate "${RATE:-1000}" --duration "${DURATION:-20}" --interval-ms "${INTERVAL_MS:-250}"
