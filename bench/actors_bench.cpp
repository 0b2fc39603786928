// bench/actors_bench.cpp — metron_bench_actors: the cost of one full aggregator
// tick without the actor around it: registry.snapshot() + metron::aggregation::tick
// (rates, the default quantiles p50/p90/p99/p99.9, the 60 s and 300 s windows) for
// the 10,000-metric registry of populated_registry.hpp. Core only: the aggregation
// needs no CAF (metron/aggregation.hpp).
//
// Between two ticks the benchmark adds to one counter and records into one
// histogram, so consecutive snapshots differ (the rates and windows see a change).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include <benchmark/benchmark.h>

#include <metron/aggregation.hpp>
#include <metron/metron.hpp>

#include "bench_support.hpp"
#include "populated_registry.hpp"

namespace {

using namespace metron_bench;

/// snapshot + aggregation::tick, as the aggregator actor does every interval.
void full_tick(benchmark::State& st) {
  auto& p = registry_of(static_cast<int>(st.range(0)));
  pin_this_thread(0);
  metron::aggregation agg;
  const auto& values = latencies();
  std::uint64_t i = 0;
  for (auto _ : st) {
    p.hot_counter->add();
    p.hot_histogram->record(values[i++ & value_mask]);
    metron::report_ptr s = agg.tick(p.reg.snapshot());
    benchmark::DoNotOptimize(s);
  }
  st.counters["history"] = static_cast<double>(agg.history_entries());
}

/// aggregation::tick alone, on copies of one raw snapshot 100 ms apart.
void aggregation_only(benchmark::State& st) {
  auto& p = registry_of(static_cast<int>(st.range(0)));
  pin_this_thread(0);
  metron::aggregation agg;
  const metron::snapshot raw = p.reg.snapshot();
  std::int64_t mono = raw.mono_ns;
  for (auto _ : st) {
    st.PauseTiming();
    metron::snapshot copy = raw;
    mono += 100'000'000;
    copy.mono_ns = mono;
    st.ResumeTiming();
    metron::report_ptr s = agg.tick(std::move(copy));
    benchmark::DoNotOptimize(s);
  }
}

const bool registered = [] {
  benchmark::RegisterBenchmark("actors/full_tick", full_tick)
    ->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("actors/aggregation_only", aggregation_only)
    ->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();
  return true;
}();

} // namespace
