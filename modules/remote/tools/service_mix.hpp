// The metric mix of a service's node, as modules/remote/NOTES.md measures it: of every
// ten metrics four are counters with two labels, two gauges, one an up/down counter
// and three latency histograms (lognormal, median 2 ms, sigma 0.8: a few hundred
// non-empty buckets once a couple of thousand values are in). Shared by the collector
// benchmark (bench/collector_bench.cpp) and the capacity harness (capacity.cpp).
//
// Concurrency: one thread records into a mix at a time (the metrics themselves are
// thread-safe; the random generator is not).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <metron/registry.hpp>

namespace metron_tools {

class service_mix {
public:
  /// Registers `metrics` metrics named svc_* in `reg`, empty.
  service_mix(metron::registry& reg, std::size_t metrics, std::uint64_t seed)
    : rng_(seed), latency_(std::log(0.002), 0.8) {
    for (std::size_t i = 0; i < metrics; ++i) {
      std::string id = std::to_string(i);
      unsigned slot = static_cast<unsigned>(i % 10);
      if (slot < 4)
        counters_.push_back(&reg.counter("svc_requests_" + id + "_total", {{"method", "GET"}, {"code", "200"}}));
      else if (slot < 6)
        gauges_.push_back(&reg.gauge("svc_level_" + id));
      else if (slot < 7)
        updowns_.push_back(&reg.updown_counter("svc_inflight_" + id));
      else
        histograms_.push_back(&reg.histogram("svc_latency_" + id + "_seconds", {{"path", "/api"}}));
    }
  }

  /// One round of work: every counter grows by 0..99, every gauge and up/down counter
  /// moves, every histogram gets `values` latencies. Returns what the counters grew by.
  std::uint64_t round(std::size_t values) {
    std::uint64_t added = 0;
    for (auto* c : counters_) {
      std::uint64_t n = rng_() % 100;
      c->add(n);
      added += n;
    }
    for (auto* g : gauges_)
      g->set(static_cast<double>(rng_() % 1000) / 7.0);
    for (auto* u : updowns_)
      u->add(static_cast<std::int64_t>(rng_() % 3) - 1);
    for (auto* h : histograms_)
      for (std::size_t k = 0; k < values; ++k)
        h->record(latency_(rng_));
    recorded_ += values * histograms_.size();
    return added;
  }

  /// Histogram values recorded so far.
  std::uint64_t histogram_values() const noexcept { return recorded_; }

private:
  std::mt19937_64 rng_;
  std::lognormal_distribution<double> latency_;
  std::vector<metron::counter*> counters_;
  std::vector<metron::gauge*> gauges_;
  std::vector<metron::updown_counter*> updowns_;
  std::vector<metron::histogram*> histograms_;
  std::uint64_t recorded_ = 0;
};

} // namespace metron_tools
