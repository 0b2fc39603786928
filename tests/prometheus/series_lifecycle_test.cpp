// Series lifecycle (registry::remove, idle expiry, the overflow series) as the real
// Prometheus 2.42 server sees it: a series retired by idle expiry or by remove()
// vanishes from the scrapes, comes back with its total continuing when its handle is
// recorded into, and Prometheus' resets() stays 0 and rate() non-negative across the
// gap; a label set beyond the limit lands in the {otel_overflow="true"} series.
// The server process is run by prometheus_process.hpp; a 1 s scrape interval.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "metron/actors.hpp"
#include "metron/prometheus.hpp"
#include "prometheus_process.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

// Waits until Prometheus answers `promql` with exactly `want`; returns what it said.
double until_equal(const t::prometheus_process& server, const std::string& promql, double want) {
  std::string why;
  double v = t::query_until(server.port(), promql, [want](double x) { return x == want; }, why);
  EXPECT_EQ(v, want) << promql << ": " << why << "\nlog:\n" << server.log();
  return v;
}

} // namespace

TEST(prometheus_series_lifecycle, retired_counters_vanish_and_return_without_a_reset) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0)
    << t::prometheus_bin << " missing: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  registry reg{registry_config{.max_label_sets = 2,
                               .idle_expiry = 5s,
                               .label_set_limit_action = on_limit::overflow}};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  monitor_config mcfg;
  mcfg.interval = 100ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
  t::prometheus_process server{ex.port()};
  ASSERT_TRUE(server.running()) << server.log();
  until_equal(server, "up{job=\"metron\"}", 1);

  // Recorded once Prometheus scrapes (every 1 s), so each is scraped before it idles 5 s.
  auto& idle = reg.counter("lifecycle_idle_total", {}, "Expires when idle.");
  auto& removed = reg.counter("lifecycle_removed_total", {{"path", "/a"}}, "Removed, then back.");
  reg.counter("lifecycle_wide_total", {{"k", "1"}}, "Three label sets, limit two.").add(1);
  reg.counter("lifecycle_wide_total", {{"k", "2"}}).add(2);
  auto& over = reg.counter("lifecycle_wide_total", {{"k", "3"}});
  ASSERT_EQ(&over, &reg.counter("lifecycle_wide_total", {{"otel_overflow", "true"}}));
  over.add(30);
  idle.add(100);
  removed.add(7);

  // Overflow: the third label set was counted in the overflow series. (max_over_time:
  // the series may have expired by the time we ask; what was scraped stays.)
  until_equal(server, "max_over_time(lifecycle_wide_total{otel_overflow=\"true\"}[5m])", 30);
  until_equal(server, "max_over_time(metron_registry_refusals_total{reason=\"label_sets\"}[5m])", 1);

  // remove(): scraped, removed, gone from the scrapes.
  until_equal(server, "max_over_time(lifecycle_removed_total{path=\"/a\"}[5m])", 7);
  ASSERT_TRUE(reg.remove("lifecycle_removed_total", {{"path", "/a"}}));
  until_equal(server, "absent(lifecycle_removed_total)", 1);
  until_equal(server, "max_over_time(metron_registry_retired_total{reason=\"removed\"}[5m])", 1);
  removed.add(1); // recorded into again: back with its total
  until_equal(server, "lifecycle_removed_total{path=\"/a\"}", 8);

  // Idle expiry: scraped, not recorded into for 5 s, gone; recorded into, back.
  until_equal(server, "max_over_time(lifecycle_idle_total[5m])", 100);
  until_equal(server, "absent(lifecycle_idle_total)", 1);
  ASSERT_GE(reg.retired_idle(), 1u);
  idle.add(50);
  until_equal(server, "lifecycle_idle_total", 150);

  // Across each gap, Prometheus saw the total continue: the window holds samples from
  // before and after, no reset, a non-negative rate.
  for (std::string s : {"lifecycle_idle_total", "lifecycle_removed_total"}) {
    double before = s == "lifecycle_idle_total" ? 100 : 7;
    double after = s == "lifecycle_idle_total" ? 150 : 8;
    std::string why;
    // The window reaches back before the gap (at most "before": a first scrape may
    // have caught the series just created, at 0) and up to now.
    double lo = t::query_until(server.port(), "min_over_time(" + s + "[1m])", [&](double v) { return v <= before; }, why);
    EXPECT_LE(lo, before) << why;
    until_equal(server, "max_over_time(" + s + "[1m])", after);
    EXPECT_EQ(t::query(server.port(), "resets(" + s + "[1m])", &why), 0) << why;
    double rate = t::query(server.port(), "rate(" + s + "[1m])", &why);
    EXPECT_FALSE(std::isnan(rate)) << why;
    EXPECT_GE(rate, 0) << why;
    double inc = t::query(server.port(), "increase(" + s + "[1m])", &why);
    EXPECT_GE(inc, 0) << why;
    EXPECT_LE(inc, 2 * (after - before)) << "increase() extrapolates, but never a counter reset's jump: " << why;
    std::printf("prometheus: %s resets=0 rate=%g increase=%g\n", s.c_str(), rate, inc);
  }
}
