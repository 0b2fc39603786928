#!/usr/bin/env bash
# The 100-node capacity run of issue 14 (modules/remote/NOTES.md, "Collector capacity"):
# 100 node processes x 1,000 metrics at a 1 s tick into one collector, ~60 s, then
# exact totals. Builds the harness in build/rel (Release) and prints its results.
#   scripts/cluster-capacity.sh [harness options, e.g. --nodes 10 --seconds 20 --copies]
# Options (defaults): --nodes 100 --metrics 1000 --seconds 60 --tick-ms 1000 --values 1;
# --pin puts the collector on CPU 0 alone and the nodes on the others ("one core");
# --caf-scheduler keeps CAF's default work-stealing polling (metron::quiet_scheduler otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${METRON_BUILD_DIR:-build/rel}
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMETRON_BUILD_BENCH=OFF \
    ${CCACHE:+-DCMAKE_CXX_COMPILER_LAUNCHER=ccache}
fi
cmake --build "$build" -j2 --target metron-cluster-capacity >/dev/null
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
"$build/modules/remote/metron-cluster-capacity" --nodes 100 --metrics 1000 --seconds 60 --tick-ms 1000 "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
