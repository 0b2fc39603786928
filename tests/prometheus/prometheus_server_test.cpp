// The real thing: a Prometheus server (Debian package `prometheus`) on 127.0.0.1
// scrapes a metron exporter every second; the test then asks Prometheus's HTTP API
// and checks that a counter equals what was recorded, that the exported summary's
// p99 is metron's p99 exactly, and that histogram_quantile(0.99, ...) over the
// exported buckets agrees with metron's p99 within one bucket of the ladder.
// The server process is run by prometheus_process.hpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>

#include "metron/actors.hpp"
#include "metron/prometheus.hpp"
#include "prometheus_process.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

TEST(prometheus_server, scrapes_metron_and_agrees_on_counters_and_p99) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0)
    << t::prometheus_bin << " missing: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};

  // Static data, recorded before the first snapshot: every scrape sees the same values.
  reg.counter("integration_requests", {{"method", "GET"}}, "Requests.").add(1234);
  auto& h = reg.histogram("integration_latency_seconds", {}, "Latency.");
  std::mt19937_64 rng{7};
  std::lognormal_distribution<double> dist{std::log(0.005), 1.0};
  for (int i = 0; i < 20000; ++i)
    h.record(dist(rng));

  monitor_config mcfg;
  mcfg.interval = 100ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
  // Hold the report: the exporter replaces its latest one every tick.
  report_ptr rep = ex.latest();
  ASSERT_NE(rep, nullptr);
  auto* hs = rep->find_histogram_sample("integration_latency_seconds");
  ASSERT_NE(hs, nullptr);
  double metron_p99 = hs->data.quantile(0.99);
  double summary_p99 = std::nan("");
  for (auto& q : rep->figures(*hs).quantiles)
    if (q.q == 0.99)
      summary_p99 = q.value;
  ASSERT_FALSE(std::isnan(summary_p99)) << "the monitor computes p99 by default";

  t::prometheus_process server{ex.port()};
  ASSERT_TRUE(server.running()) << server.log();
  std::string why;

  // Scraped and up.
  double up = t::query_until(server.port(), "up{job=\"metron\"}", [](double v) { return v == 1; }, why);
  ASSERT_EQ(up, 1) << "Prometheus never scraped the exporter: " << why << "\nlog:\n" << server.log();

  // The counter, exactly.
  double requests = t::query_until(server.port(), "integration_requests_total{method=\"GET\"}",
                                [](double) { return true; }, why);
  EXPECT_EQ(requests, 1234) << why;

  // The summary's p99 is metron's, exactly (the text format round-trips doubles).
  double p99_summary = t::query_until(server.port(), "integration_latency_seconds_quantiles{quantile=\"0.99\"}",
                                   [](double) { return true; }, why);
  EXPECT_EQ(p99_summary, summary_p99) << why;

  // histogram_quantile over the exported buckets (raw, the data is static; and over a
  // rate of a range once two scrapes exist it would be NaN here, as nothing changes).
  double p99_buckets = t::query_until(server.port(), "histogram_quantile(0.99, integration_latency_seconds_bucket)",
                                   [](double) { return true; }, why);
  ASSERT_FALSE(std::isnan(p99_buckets)) << why;
  // Both must lie in the ladder bucket that holds rank ceil(0.99 n), whose width is
  // the resolution of the exported histogram.
  auto ladder = prom::default_buckets();
  auto n = hs->data.count();
  auto rank = static_cast<std::uint64_t>(std::ceil(0.99 * static_cast<double>(n)));
  std::size_t i = 0;
  while (i < ladder.size() && hs->data.count_at_or_below(ladder[i]) < rank)
    ++i;
  ASSERT_LT(i, ladder.size()) << "p99 above the ladder";
  double lo = i == 0 ? 0.0 : ladder[i - 1];
  double hi = ladder[i];
  EXPECT_GE(p99_buckets, lo);
  EXPECT_LE(p99_buckets, hi);
  // metron's p99 is within its 0.78% bucket error of that ladder bucket.
  EXPECT_GE(metron_p99, lo * (1 - bucket_layout::relative_error));
  EXPECT_LE(metron_p99, hi * (1 + bucket_layout::relative_error));
  EXPECT_LE(std::abs(p99_buckets - metron_p99), (hi - lo) * (1 + bucket_layout::relative_error))
    << "Prometheus p99 " << p99_buckets << ", metron p99 " << metron_p99 << ", ladder bucket [" << lo
    << ", " << hi << "]";
  std::printf("prometheus: requests=%g summary_p99=%g histogram_quantile_p99=%g metron_p99=%g bucket=[%g, %g]\n",
              requests, p99_summary, p99_buckets, metron_p99, lo, hi);
}
