#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
#   1. an optimised build (Release) of everything: library, tests, examples, benchmarks;
#      ctest runs every test, then each benchmark runs once, briefly (so none rots);
#   2. a ThreadSanitizer build in its own directory, linked against a CAF 0.17.6
#      built with -fsanitize=thread (scripts/build-caf-tsan.sh), running every test
#      again, concurrency tests included;
#   3. an AddressSanitizer + UBSan build of the core (cheap: no CAF) running the
#      core tests.
# Usage: scripts/test.sh            (build dirs: build/release, build/tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/install-deps.sh

step() { printf '\n== %s ==\n' "$*"; }

step "release build"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$jobs"
step "release tests"
ctest --test-dir build/release --output-on-failure -j "$jobs"

step "benchmarks, each once and briefly (so none rots; timings are not pass/fail)"
bench=build/release/bench
"$bench/metron_bench" --benchmark_min_time=0.001 >/dev/null
"$bench/metron_bench_actors" --benchmark_min_time=0.001 >/dev/null
"$bench/metron_memory" >/dev/null
"$bench/metron_accuracy" >/dev/null
"$bench/metron_scaling" 2 5 >/dev/null
"$bench/metron_bench_collector" --benchmark_min_time=0.001 >/dev/null
echo "benchmarks ran: metron_bench, metron_bench_actors, metron_memory, metron_accuracy, metron_scaling, metron_bench_collector"

step "ThreadSanitizer build"
caf_tsan="$root/build/caf-tsan"
scripts/build-caf-tsan.sh "$caf_tsan"
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMETRON_SANITIZE=thread \
      -DMETRON_CAF_ROOT="$caf_tsan" -DMETRON_BUILD_BENCH=OFF -DMETRON_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/tsan -j "$jobs"
step "ThreadSanitizer tests"
ctest --test-dir build/tsan --output-on-failure -j "$jobs"

step "AddressSanitizer + UBSan build (core)"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMETRON_SANITIZE=address \
      -DMETRON_WITH_CAF=OFF -DMETRON_BUILD_BENCH=OFF -DMETRON_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/asan -j "$jobs"
step "AddressSanitizer + UBSan tests (core)"
ctest --test-dir build/asan --output-on-failure -j "$jobs"
