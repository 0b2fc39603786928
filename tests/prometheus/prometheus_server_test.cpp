// The real thing: a Prometheus server (Debian package `prometheus`) on 127.0.0.1
// scrapes a metron exporter every second; the test then asks Prometheus's HTTP API
// and checks that a counter equals what was recorded, that the exported summary's
// p99 is metron's p99 exactly, and that histogram_quantile(0.99, ...) over the
// exported buckets agrees with metron's p99 within one bucket of the ladder.
// The server process is run by prometheus_process.hpp.
#include <gtest/gtest.h>

#include <chrono>
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

// OpenMetrics for real: Prometheus asks for it (its Accept header), stores the
// exemplars with --enable-feature=exemplar-storage, and /api/v1/query_exemplars returns
// the trace id metron recorded; the values scraped in that format are exact.
TEST(prometheus_server, scrapes_openmetrics_and_returns_the_recorded_exemplar) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0)
    << t::prometheus_bin << " missing: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  reg.counter("om_requests", {{"method", "GET"}}, "Requests.").add(77);
  auto& h = reg.histogram("om_latency_seconds", {}, "Latency.");
  for (int i = 0; i < 999; ++i)
    h.record(0.001 * (i % 50 + 1));
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  h.record(0.75, exemplar{trace}.add("span_id", "00f067aa0ba902b7"));

  monitor_config mcfg;
  mcfg.interval = 100ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
  t::prometheus_process server{t::scrape_job("metron", ex.port()), {"--enable-feature=exemplar-storage"}};
  ASSERT_TRUE(server.running()) << server.log();
  std::string why;
  double up = t::query_until(server.port(), "up{job=\"metron\"}", [](double v) { return v == 1; }, why);
  ASSERT_EQ(up, 1) << "Prometheus never scraped the exporter: " << why << "\nlog:\n" << server.log();

  // Exact values, and _created: a series only the OpenMetrics exposition has, so the
  // scrape was OpenMetrics.
  EXPECT_EQ(t::query_until(server.port(), "om_requests_total{method=\"GET\"}", [](double) { return true; }, why), 77)
    << why;
  EXPECT_EQ(t::query_until(server.port(), "om_latency_seconds_count", [](double) { return true; }, why), 1000) << why;
  auto snap = reg.snapshot();
  auto* c = snap.find_counter("om_requests", {{"method", "GET"}});
  ASSERT_NE(c, nullptr);
  double created_s = t::query_until(server.port(), "om_requests_created{method=\"GET\"}", [](double) { return true; }, why);
  EXPECT_NEAR(created_s, static_cast<double>(c->series.created_ns()) / 1e9, 1e-3) << why;

  // The exemplar, through Prometheus's exemplar API.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string path = "/api/v1/query_exemplars?query=" + t::url_encode("om_latency_seconds_bucket") +
                     "&start=" + std::to_string(now - 600) + "&end=" + std::to_string(now + 600);
  t::http_response r;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    r = t::get(server.port(), path);
    if (r.status == 200 && r.body.find(trace) != std::string::npos)
      break;
    std::this_thread::sleep_for(200ms); // Prometheus offers nothing to await
  }
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"trace_id\":\"" + trace + "\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"span_id\":\"00f067aa0ba902b7\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"value\":\"0.75\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"le\":\"1\""), std::string::npos) << "on the bucket that counts 0.75: " << r.body;
  std::printf("prometheus exemplars: %s\n", r.body.c_str());
}
