// bench/populated_registry.hpp — the registries the snapshot and tick benchmarks read.
//
// n metrics: 45% counters, 45% gauges, 10% histograms, in families of 100 label
// sets ({"id","<n>"}). Before any measurement two threads, pinned to CPU 0 and
// CPU 1, concurrently, record into every metric (64 varied values per histogram per thread), so
// every counter and histogram has two active shards.
#pragma once

#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <metron/metron.hpp>

#include "bench_support.hpp"

namespace metron_bench {

struct populated_registry {
  metron::registry reg;
  metron::counter* hot_counter = nullptr;
  metron::histogram* hot_histogram = nullptr;

  explicit populated_registry(int n) {
    std::vector<metron::counter*> counters;
    std::vector<metron::gauge*> gauges;
    std::vector<metron::histogram*> histograms;
    for (int k = 0; k < n; ++k) {
      int kind = k % 20; // 0..8 counter, 9..17 gauge, 18..19 histogram
      std::string id = std::to_string(k);
      std::string fam = std::to_string(k / 100);
      if (kind < 9)
        counters.push_back(&reg.counter("snap_counter_" + fam + "_total", {{"id", id}}));
      else if (kind < 18)
        gauges.push_back(&reg.gauge("snap_gauge_" + fam, {{"id", id}}));
      else
        histograms.push_back(&reg.histogram("snap_latency_" + fam + "_seconds", {{"id", id}}));
    }
    hot_counter = counters.front();
    hot_histogram = histograms.front();
    const auto& values = latencies();
    // Both threads hold their slots until both are done: a thread that finished
    // first and exited would hand its slot (and shard) to the second one.
    std::latch done{2};
    auto fill = [&](int t) {
      pin_this_thread(t);
      std::size_t j = static_cast<std::size_t>(t) * 1031;
      for (auto* c : counters)
        c->add(static_cast<std::uint64_t>(t + 1));
      for (auto* g : gauges)
        g->set(values[j++ & value_mask]);
      for (auto* h : histograms)
        for (int r = 0; r < 64; ++r)
          h->record(values[j++ & value_mask]);
      done.arrive_and_wait();
    };
    std::thread a{fill, 0};
    std::thread b{fill, 1};
    a.join();
    b.join();
  }
};

/// One populated registry per size, built on first use and kept for the process
/// (benchmarks of several sizes and repetitions share them).
inline populated_registry& registry_of(int n) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<populated_registry>> regs;
  std::lock_guard<std::mutex> guard{mutex};
  auto& p = regs[n];
  if (!p)
    p = std::make_unique<populated_registry>(n);
  return *p;
}

} // namespace metron_bench
