// bench/accuracy.cpp — metron_accuracy: how far reported quantiles are from the
// truth, metron's log-linear histogram vs a prometheus-cpp Histogram read the way a
// Prometheus server reads it (histogram_quantile's linear interpolation inside the
// bucket, re-implemented below after promql/quantile.go's bucketQuantile).
//
// Truth: the nearest-rank order statistic of the sorted data (rank ceil(q*n)).
// Error: |reported - exact| / exact. One million values per distribution, fixed seed.
// Prometheus layouts: the 20 bounds the peers use (bench/peer_buckets.hpp) and the
// client default (.005 .. 10, 11 bounds). Prints Markdown tables.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <metron/histogram.hpp>

#ifdef METRON_BENCH_HAVE_PROMETHEUS
#include <prometheus/histogram.h>
#endif

#include "peer_buckets.hpp"

namespace {

constexpr double quantiles[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
constexpr std::size_t n = 1'000'000;

struct distribution {
  const char* name;
  std::function<double(std::mt19937_64&)> draw;
};

std::vector<distribution> distributions() {
  return {
    {"uniform 1-10 ms",
     [](std::mt19937_64& r) { return std::uniform_real_distribution<double>{0.001, 0.010}(r); }},
    {"log-normal median 2 ms, sigma 0.5",
     [](std::mt19937_64& r) { return std::lognormal_distribution<double>{std::log(0.002), 0.5}(r); }},
    {"bimodal 90% ~1 ms + 10% ~40 ms",
     [](std::mt19937_64& r) {
       bool slow = std::bernoulli_distribution{0.1}(r);
       return std::lognormal_distribution<double>{std::log(slow ? 0.040 : 0.001), 0.25}(r);
     }},
    {"Pareto xm 1 ms, alpha 1.5",
     [](std::mt19937_64& r) {
       double u = std::uniform_real_distribution<double>{0.0, 1.0}(r);
       return 0.001 / std::pow(1.0 - u, 1.0 / 1.5);
     }},
  };
}

double exact_quantile(const std::vector<double>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

struct bucket {
  double upper;
  double cumulative;
};

/// Prometheus's histogram_quantile on cumulative buckets; the last is +Inf.
double histogram_quantile(double q, const std::vector<bucket>& b) {
  if (b.size() < 2)
    return NAN;
  double observations = b.back().cumulative;
  if (observations == 0)
    return NAN;
  double rank = q * observations;
  auto it = std::lower_bound(b.begin(), b.end() - 1, rank,
                             [](const bucket& x, double r) { return x.cumulative < r; });
  std::size_t i = static_cast<std::size_t>(it - b.begin());
  if (i == b.size() - 1)
    return b[b.size() - 2].upper; // in the +Inf bucket: the highest finite bound
  if (i == 0 && b[0].upper <= 0)
    return b[0].upper;
  double start = 0, end = b[i].upper, count = b[i].cumulative;
  if (i > 0) {
    start = b[i - 1].upper;
    count -= b[i - 1].cumulative;
    rank -= b[i - 1].cumulative;
  }
  return start + (end - start) * (rank / count);
}

#ifdef METRON_BENCH_HAVE_PROMETHEUS
std::vector<bucket> prometheus_buckets(const std::vector<double>& data, const std::vector<double>& bounds) {
  prometheus::Histogram h{bounds};
  for (double v : data)
    h.Observe(v);
  std::vector<bucket> out;
  for (auto& b : h.Collect().histogram.bucket)
    out.push_back({b.upper_bound, static_cast<double>(b.cumulative_count)});
  return out;
}
#endif

double rel(double got, double exact) { return std::abs(got - exact) / exact; }

} // namespace

int main() {
  std::printf("%zu values per distribution; error = |reported - exact| / exact, exact = nearest rank.\n", n);
  std::printf("metron: log-linear histogram (documented bound %.2f%%); prometheus-cpp: Histogram + "
              "histogram_quantile, %zu peer buckets and the 11 default buckets.\n\n",
              100 * metron::bucket_layout::relative_error, metron_bench::peer_bucket_count);
  std::printf("| distribution | q | exact | metron | metron err | prom 20 buckets | prom-20 err | prom default | prom-def err |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::mt19937_64 rng{42};
  std::vector<std::string> summary;
  for (auto& d : distributions()) {
    std::vector<double> data(n);
    metron::histogram h;
    for (auto& v : data) {
      v = d.draw(rng);
      h.record(v);
    }
    auto snap = h.snapshot();
    std::sort(data.begin(), data.end());
#ifdef METRON_BENCH_HAVE_PROMETHEUS
    auto p20 = prometheus_buckets(data, metron_bench::peer_bounds());
    auto pdef = prometheus_buckets(data, prometheus::Histogram::BucketBoundaries{
                                           0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
#else
    std::vector<bucket> p20, pdef;
#endif
    double max_m = 0, max_p20 = 0, max_pdef = 0;
    for (double q : quantiles) {
      double exact = exact_quantile(data, q);
      double m = snap.quantile(q);
      double a = histogram_quantile(q, p20);
      double b = histogram_quantile(q, pdef);
      max_m = std::max(max_m, rel(m, exact));
      max_p20 = std::max(max_p20, rel(a, exact));
      max_pdef = std::max(max_pdef, rel(b, exact));
      std::printf("| %s | %g | %.6g | %.6g | %.3f%% | %.6g | %.2f%% | %.6g | %.2f%% |\n", d.name, q, exact, m,
                  100 * rel(m, exact), a, 100 * rel(a, exact), b, 100 * rel(b, exact));
    }
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %.3f%% | %.2f%% | %.2f%% |", d.name, 100 * max_m, 100 * max_p20,
                  100 * max_pdef);
    summary.emplace_back(line);
  }
  std::printf("\nMax relative error over p50, p90, p99, p99.9, p99.99:\n\n");
  std::printf("| distribution | metron | prometheus-cpp, 20 buckets | prometheus-cpp, default buckets |\n");
  std::printf("|---|---:|---:|---:|\n");
  for (auto& s : summary)
    std::printf("%s\n", s.c_str());
  return 0;
}
