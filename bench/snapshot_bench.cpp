// bench/snapshot_bench.cpp — what reading costs: registry.snapshot() for 100, 1,000
// and 10,000 metrics, and the recording throughput of 2 pinned threads while a
// background thread snapshots every 100 ms (the aggregator's default tick) compared
// with no snapshots at all.
//
// The registries are described in populated_registry.hpp.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <metron/metron.hpp>

#include "bench_support.hpp"
#include "populated_registry.hpp"
#include "service_workload.hpp"
#include "ticker.hpp"

namespace {

using namespace metron_bench;

void snapshot_cost(benchmark::State& st) {
  auto& p = registry_of(static_cast<int>(st.range(0)));
  pin_this_thread(0);
  std::size_t series = 0;
  for (auto _ : st) {
    metron::snapshot s = p.reg.snapshot();
    series = s.series();
    benchmark::DoNotOptimize(s);
  }
  st.counters["series"] = static_cast<double>(series);
  st.counters["registry_MB"] = static_cast<double>(p.reg.bytes()) / 1e6;
}

/// snapshot_cost in a process where 64 more threads once recorded into another
/// counter (a server's thread pool): every one of them claimed a slab, and a reader
/// visits only the slabs that hold a metric's chunk (slab.hpp: for_each_cell), so
/// this should cost what the plain row costs.
void snapshot_with_idle_slabs(benchmark::State& st) {
  static const bool spawned = [&st] {
    registry_of(static_cast<int>(st.range(0))); // its ids first: the other counter's come after
    static metron::counter other;
    constexpr int extra = 64;
    std::latch all{extra}; // alive at once, so each claims its own slot and slab
    std::vector<std::thread> pool;
    for (int t = 0; t < extra; ++t)
      pool.emplace_back([&all] {
        other.add();
        all.arrive_and_wait();
      });
    for (auto& t : pool)
      t.join();
    return true;
  }();
  benchmark::DoNotOptimize(spawned);
  snapshot_cost(st);
}

/// snapshot_cost with 8 earlier snapshots alive, the oldest freed after each new one:
/// a consumer that keeps snapshots (the aggregator keeps the latest and a window
/// history, aggregation.hpp). The plain loop above frees everything before the next
/// snapshot, so glibc gives the top of the heap back to the kernel (brk) and the next
/// snapshot faults it in again; here freed memory sits below live snapshots and is
/// reused. The difference between the two rows is allocator work, not metron's.
void snapshot_with_history(benchmark::State& st) {
  auto& p = registry_of(static_cast<int>(st.range(0)));
  pin_this_thread(0);
  std::deque<metron::snapshot> history;
  for (int i = 0; i < 8; ++i)
    history.push_back(p.reg.snapshot());
  for (auto _ : st) {
    history.push_back(p.reg.snapshot());
    history.pop_front();
  }
  st.counters["series"] = static_cast<double>(history.back().series());
}

/// Series lifecycle: snapshot() of 1,000 live counters (each recorded) and
/// range(1) retired ones (created, recorded, removed), with idle expiry on if
/// range(0) is 1. What a retired series costs each snapshot (it is re-read to see
/// whether it was recorded into) and what expiry bookkeeping costs.
void snapshot_lifecycle(benchmark::State& st) {
  metron::registry_config cfg;
  cfg.max_label_sets = 1u << 20;
  if (st.range(0) == 1)
    cfg.idle_expiry = std::chrono::hours{1};
  metron::registry reg{cfg};
  for (int i = 0; i < 1000; ++i)
    reg.counter("live_total", {{"i", std::to_string(i)}}).add(1);
  for (long i = 0; i < st.range(1); ++i) {
    reg.counter("gone_total", {{"i", std::to_string(i)}}).add(1);
    reg.remove("gone_total", {{"i", std::to_string(i)}});
  }
  pin_this_thread(0);
  for (auto _ : st) {
    metron::snapshot s = reg.snapshot();
    benchmark::DoNotOptimize(s);
  }
  st.counters["retired"] = static_cast<double>(reg.retired());
}

/// 2 pinned threads record (counter.add + histogram.record per op) into the
/// 10,000-metric registry; with_ticker: thread 0 runs a 100 ms snapshot ticker.
void record_while_ticking(benchmark::State& st, bool with_ticker) {
  auto& p = registry_of(10000);
  const auto& values = latencies();
  std::unique_ptr<ticker> tick;
  if (with_ticker && st.thread_index() == 0)
    tick = std::make_unique<ticker>(p.reg, std::chrono::milliseconds{100});
  auto& c = *p.hot_counter;
  auto& h = *p.hot_histogram;
  run(st, [&](std::uint64_t i) {
    c.add();
    h.record(values[i & value_mask]);
  });
  if (tick) {
    tick->stop();
    st.counters["ticks"] = static_cast<double>(tick->ticks());
    st.counters["tick_ms"] =
      tick->ticks() ? 1e3 * tick->busy_seconds() / static_cast<double>(tick->ticks()) : 0.0;
  }
}

/// The service workload (service_workload.hpp) recorded by `threads` threads, built
/// once per thread count and kept.
metron_service& metron_service_of(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<metron_service>> built;
  std::lock_guard<std::mutex> guard{mutex};
  auto& p = built[threads];
  if (!p) {
    p = std::make_unique<metron_service>();
    p->record(threads);
  }
  return *p;
}

/// metron: reg.snapshot() of the 1,000 histograms x `threads` recording threads.
void service_snapshot_metron(benchmark::State& st) {
  auto& svc = metron_service_of(static_cast<int>(st.range(0)));
  pin_this_thread(0);
  for (auto _ : st) {
    metron::snapshot s = svc.reg.snapshot();
    benchmark::DoNotOptimize(s);
  }
  st.counters["histograms"] = static_cast<double>(svc.hs.size());
}

#ifdef METRON_BENCH_HAVE_PROMETHEUS
/// prometheus-cpp: Registry::Collect() of the same histograms, same values.
void service_collect_prometheus(benchmark::State& st) {
  static prometheus_service* svc = [] {
    auto* p = new prometheus_service;
    p->record(8);
    return p;
  }();
  pin_this_thread(0);
  for (auto _ : st) {
    auto families = svc->reg.Collect();
    benchmark::DoNotOptimize(families);
  }
  st.counters["histograms"] = static_cast<double>(svc->hs.size());
}
#endif

const bool registered = [] {
  // 8 threads is the issue-10 comparison; 1..16 give the cost model's thread axis.
  benchmark::RegisterBenchmark("snapshot/service_1000h_8t/metron",
                               [](benchmark::State& st) { service_snapshot_metron(st); })
    ->Arg(8)->Unit(benchmark::kMicrosecond)->UseRealTime();
  benchmark::RegisterBenchmark("snapshot/service_1000h_threads/metron", service_snapshot_metron)
    ->Arg(1)->Arg(2)->Arg(4)->Arg(16)->Unit(benchmark::kMicrosecond)->UseRealTime();
#ifdef METRON_BENCH_HAVE_PROMETHEUS
  benchmark::RegisterBenchmark("snapshot/service_1000h_8t/prometheus_cpp.Collect", service_collect_prometheus)
    ->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif
  benchmark::RegisterBenchmark("snapshot/registry", snapshot_cost)
    ->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();
  benchmark::RegisterBenchmark("snapshot/registry_64_idle_threads", snapshot_with_idle_slabs)
    ->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();
  benchmark::RegisterBenchmark("snapshot/registry_with_history", snapshot_with_history)
    ->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();
  // {expiry on, retired}: {0,0} is the baseline the others are read against.
  benchmark::RegisterBenchmark("snapshot/lifecycle_1000live", snapshot_lifecycle)
    ->Args({0, 0})->Args({1, 0})->Args({0, 1000})->Args({0, 10000})->Unit(benchmark::kMicrosecond)->UseRealTime();
  // At least 1 s per run, so a run sees ~10 ticks whatever --benchmark_min_time says.
  benchmark::RegisterBenchmark("tick/record_2threads/no_aggregator",
                               [](benchmark::State& st) { record_while_ticking(st, false); })
    ->Threads(2)->UseRealTime()->MinTime(1.0);
  benchmark::RegisterBenchmark("tick/record_2threads/aggregator_100ms",
                               [](benchmark::State& st) { record_while_ticking(st, true); })
    ->Threads(2)->UseRealTime()->MinTime(1.0);
  return true;
}();

} // namespace
