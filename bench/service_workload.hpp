// bench/service_workload.hpp — the cold-path workload of issue 10, shared by the
// memory program and the snapshot benchmark: a service's latency histograms.
//
// 1,000 histograms (one per route x status: 200 routes, 5 statuses), values
// log-normal with median 5 ms and sigma 1 (generated once from a fixed seed), and
// `threads` recording threads that are all alive at once (pinned one per CPU,
// round-robin; more threads than CPUs is fine for memory), each recording 200
// values into every histogram. The same values go into prometheus-cpp histograms
// (the 20 bounds of peer_buckets.hpp) when it is available, so both libraries hold
// the same data in the same run.
#pragma once

#include <cmath>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <metron/metron.hpp>

#ifdef METRON_BENCH_HAVE_PROMETHEUS
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#endif

#include "bench_support.hpp"
#include "peer_buckets.hpp"

namespace metron_bench {

inline constexpr int service_histograms = 1000;
inline constexpr int service_records_per_thread = 200;

/// 8192 log-normal latencies, median 5 ms, sigma 1.
inline const std::vector<double>& service_latencies() {
  static const std::vector<double> v = [] {
    std::vector<double> out(8192);
    std::mt19937_64 rng{20261130};
    std::lognormal_distribution<double> d{std::log(0.005), 1.0};
    for (auto& x : out)
      x = d(rng);
    return out;
  }();
  return v;
}

inline metron::labels service_labels(int i) {
  static const char* statuses[] = {"200", "201", "404", "429", "500"};
  return {{"route", "/api/r" + std::to_string(i / 5)}, {"status", statuses[i % 5]}};
}

/// Runs `threads` threads, all alive at once, each calling body(thread_index).
template <class Body>
void run_recording_threads(int threads, Body body) {
  std::latch done{threads};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      pin_this_thread(t);
      body(t);
      done.arrive_and_wait(); // nobody exits (and hands its slot on) before all recorded
    });
  for (auto& th : pool)
    th.join();
}

/// Each of `threads` threads records its 200 values into every histogram of hs
/// through observe(histogram, value).
template <class Histograms, class Observe>
void record_service(const Histograms& hs, int threads, Observe observe) {
  const auto& v = service_latencies();
  run_recording_threads(threads, [&](int t) {
    std::size_t j = static_cast<std::size_t>(t) * 7919;
    for (auto* h : hs)
      for (int r = 0; r < service_records_per_thread; ++r)
        observe(*h, v[j++ & (v.size() - 1)]);
  });
}

/// metron's side: a registry with the 1,000 histograms.
struct metron_service {
  metron::registry reg;
  std::vector<metron::histogram*> hs;

  metron_service() {
    for (int i = 0; i < service_histograms; ++i)
      hs.push_back(&reg.histogram("http_request_duration_seconds", service_labels(i)));
  }

  void record(int threads) {
    record_service(hs, threads, [](metron::histogram& h, double x) { h.record(x); });
  }
};

#ifdef METRON_BENCH_HAVE_PROMETHEUS
/// prometheus-cpp's side: one family, the same 1,000 label sets and values.
struct prometheus_service {
  prometheus::Registry reg;
  std::vector<prometheus::Histogram*> hs;

  prometheus_service() {
    auto& family = prometheus::BuildHistogram().Name("http_request_duration_seconds").Register(reg);
    for (int i = 0; i < service_histograms; ++i) {
      std::map<std::string, std::string> ls;
      for (auto& [k, val] : service_labels(i))
        ls[k] = val;
      hs.push_back(&family.Add(ls, peer_bounds()));
    }
  }

  void record(int threads) {
    record_service(hs, threads, [](prometheus::Histogram& h, double x) { h.Observe(x); });
  }
};
#endif

} // namespace metron_bench
