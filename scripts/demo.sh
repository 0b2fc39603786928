#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, runs the main demo.
# Extra arguments go to the demo (e.g. scripts/demo.sh --duration 0 runs until Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target metron-demo
exec build/release/examples/metron-demo "$@"
