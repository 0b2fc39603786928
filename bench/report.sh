#!/usr/bin/env bash
# bench/report.sh — builds the benchmarks in Release (build/bench), runs the suite
# with repetitions (JSON), the memory and accuracy programs, and prints the Markdown
# report (bench/report.py) to stdout.
#
# Usage: bench/report.sh                     (from anywhere; ~4 min on 2 vCPUs)
#   REPS=5        repetitions per benchmark (randomly interleaved)
#   MIN_TIME=0.2  seconds per repetition (a plain number: Google Benchmark 1.7)
#   BUILD_DIR=build/bench
#   METRON_BENCH_PIN=0 disables thread pinning
# Raw output stays in $BUILD_DIR/report/ (bench.json, console.txt, memory.txt, accuracy.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/bench}
reps=${REPS:-5}
min_time=${MIN_TIME:-0.2}
out="$build/report"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMETRON_BUILD_BENCH=ON \
      -DMETRON_BUILD_TESTS=OFF -DMETRON_BUILD_EXAMPLES=OFF -DMETRON_WITH_CAF=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target metron_bench metron_memory metron_accuracy >/dev/null
mkdir -p "$out"

"$build/bench/metron_memory" > "$out/memory.txt"
"$build/bench/metron_accuracy" > "$out/accuracy.txt"
"$build/bench/metron_bench" --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json > "$out/console.txt"

python3 bench/report.py "$out/bench.json" --memory "$out/memory.txt" --accuracy "$out/accuracy.txt" \
  --command "bench/report.sh  (REPS=$reps MIN_TIME=$min_time)"
