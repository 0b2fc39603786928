// The deterministic workload of a test node (test_node.cpp), shared with the tests
// so they can regenerate every sample a node recorded from its seed.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <metron/registry.hpp>

namespace metron_test {

/// The latency samples of node `seed`: `n` lognormal values around 2 ms.
inline std::vector<double> node_samples(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng{seed};
  std::lognormal_distribution<double> dist{std::log(0.002), 0.9};
  std::vector<double> out(n);
  for (auto& x : out)
    x = dist(rng);
  return out;
}

/// Records the workload of node `seed` into `reg`:
///   work_items_total{kind="a"} = n, work_items_total{kind="b"} = seed,
///   work_latency_seconds = node_samples(seed, n), work_queue_depth = seed (gauge),
///   work_inflight = 2 (up/down counter), work_items_total{kind="c",node="inner"} = 1
///   (a series with its own `node` label).
inline void record_workload(metron::registry& reg, std::uint64_t seed, std::size_t n) {
  reg.counter("work_items_total", {{"kind", "a"}}, "Items").add(n);
  reg.counter("work_items_total", {{"kind", "b"}}).add(seed);
  reg.counter("work_items_total", {{"kind", "c"}, {"node", "inner"}}).add(1);
  auto& h = reg.histogram("work_latency_seconds", {}, "Latency");
  for (double x : node_samples(seed, n))
    h.record(x);
  reg.gauge("work_queue_depth").set(static_cast<double>(seed));
  reg.updown_counter("work_inflight").add(2);
}

} // namespace metron_test
