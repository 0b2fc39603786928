// bench/peer_buckets.hpp — the 20 bucket bounds the peers' histograms use (the
// mutex collector, prometheus-cpp, and the Prometheus side of the accuracy table).
//
// A typical hand-picked latency layout in seconds: 100 us to 10 s, roughly 1-2.5-5
// per decade, denser around the 1-50 ms range where the recorded values live.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace metron_bench {

inline constexpr std::size_t peer_bucket_count = 20;

inline constexpr double peer_bucket_bounds[peer_bucket_count] = {
  0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075,
  0.01,   0.015,   0.025,  0.05,  0.075,  0.1,   0.25,  0.5,   1.0,   10.0};

inline std::vector<double> peer_bounds() {
  return {std::begin(peer_bucket_bounds), std::end(peer_bucket_bounds)};
}

/// Index of the first bound >= v (Prometheus "le"), or peer_bucket_count for +Inf.
inline std::size_t peer_bucket_index(double v) {
  return static_cast<std::size_t>(
    std::lower_bound(std::begin(peer_bucket_bounds), std::end(peer_bucket_bounds), v)
    - std::begin(peer_bucket_bounds));
}

} // namespace metron_bench
