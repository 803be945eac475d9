#!/usr/bin/env bash
# Live chart latency (PutRecords acknowledgement → point painted in Chromium) and the page's
# JS heap over minutes of live updates. Method: bench/ui/live_chart.mjs.
#
#   bench/ui/run.sh                        # 1,000 records/s, 60 s latency, 10 min memory
#   RATE=2000 SECONDS_=30 MINUTES=2 bench/ui/run.sh
#
# Env: BUILD_DIR (build/release), RATE (1000), SECONDS_ (60), MINUTES (10),
#      INTERVAL_MS (the server's [ui] live_interval_ms; default: the server's, 250).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/release}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$BUILD_DIR" streamlake >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
STREAMLAKE_BIN="$BUILD_DIR/streamlake" exec node bench/ui/live_chart.mjs \
  --rate "${RATE:-1000}" --seconds "${SECONDS_:-60}" --minutes "${MINUTES:-10}" \
  ${INTERVAL_MS:+--live-interval "$INTERVAL_MS"}
