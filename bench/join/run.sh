#!/usr/bin/env bash
# Stream-stream interval join: see join_bench.cc. BUILD_DIR defaults to build/rel.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/rel}
ninja -C "$BUILD_DIR" join_bench >/dev/null
"$BUILD_DIR/bench/join/join_bench" --events "${EVENTS:-1000000}"
