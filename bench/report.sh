#!/usr/bin/env bash
# bench/report.sh — builds the benchmarks in Release (build/bench), runs the suite
# with repetitions (JSON), the memory and accuracy programs, and prints the Markdown
# report (bench/report.py) to stdout.
#
# Usage: bench/report.sh                     (from anywhere; ~7 min on 2 vCPUs)
#   REPS=5        repetitions per benchmark (randomly interleaved)
#   SCALING_ROUNDS=20  paired 1-/2-thread rounds of bench/metron_scaling
#   MIN_TIME=0.2  seconds per repetition (a plain number: Google Benchmark 1.7)
#   BUILD_DIR=build/bench
#   METRON_BENCH_PIN=0 disables thread pinning
#   QUIET_LOAD=1.0 QUIET_WAIT=900  before running, wait (at most QUIET_WAIT s) until the
#                 1-minute load average is below QUIET_LOAD; off unless QUIET_LOAD is set.
#                 On a shared 2-vCPU machine anything else running makes the 2-thread
#                 figures meaningless; the report prints the load before and after.
# Raw output stays in $BUILD_DIR/report/ (bench.json, actors.json, console.txt, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/bench}
reps=${REPS:-5}
min_time=${MIN_TIME:-0.2}
out="$build/report"

# -- build ---------------------------------------------------------------------------
configure() {
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMETRON_BUILD_BENCH=ON \
        -DMETRON_BUILD_TESTS=OFF -DMETRON_BUILD_EXAMPLES=OFF -DMETRON_WITH_CAF="$1" >"$build.configure.log" 2>&1
}
mkdir -p "$(dirname "$build")"
# The CAF layers are only needed for metron_bench_actors; without them the rest still runs.
configure ON || { echo "note: configuring with CAF failed (see $build.configure.log); continuing without it" >&2; configure OFF; }
cmake --build "$build" -j "$(nproc)" --target metron_bench metron_memory metron_accuracy metron_scaling >/dev/null
mkdir -p "$out"
rm -f "$out/actors.json"
actors=0
if cmake --build "$build" -j "$(nproc)" --target metron_bench_actors >"$out/actors-build.log" 2>&1; then
  actors=1
else
  echo "note: metron_bench_actors not built (CAF off or actors/ not building; see $out/actors-build.log)" >&2
fi

# -- wait for a quiet machine (optional) -----------------------------------------------
if [ -n "${QUIET_LOAD:-}" ]; then
  deadline=$(( $(date +%s) + ${QUIET_WAIT:-900} ))
  until awk -v max="$QUIET_LOAD" '{ exit !($1 < max) }' /proc/loadavg; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "note: load average still $(cut -d' ' -f1 /proc/loadavg) after ${QUIET_WAIT:-900} s; running anyway" >&2
      break
    fi
    sleep 10
  done
fi

# -- run -------------------------------------------------------------------------------
"$build/bench/metron_memory" > "$out/memory.txt"
"$build/bench/metron_accuracy" > "$out/accuracy.txt"
"$build/bench/metron_bench" --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json > "$out/console.txt" 2>&1
# 2-thread scaling and the ticking ratio in paired rounds beside share-nothing controls (~1 min)
"$build/bench/metron_scaling" "${SCALING_ROUNDS:-20}" 100 --rounds > "$out/scaling.txt"
if [ "$actors" = 1 ]; then
  "$build/bench/metron_bench_actors" --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/actors.json" --benchmark_out_format=json > "$out/actors-console.txt" 2>&1
fi
cut -d' ' -f1-3 /proc/loadavg > "$out/load-after.txt"

# -- report ----------------------------------------------------------------------------
python3 bench/report.py "$out/bench.json" --actors "$out/actors.json" --memory "$out/memory.txt" \
  --accuracy "$out/accuracy.txt" --scaling "$out/scaling.txt" --load-after "$out/load-after.txt" \
  --command "bench/report.sh  (REPS=$reps MIN_TIME=$min_time)"
