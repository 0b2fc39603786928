// The exporter against a real monitor: it subscribes, serves the monitor's latest
// snapshot (rates and quantiles included), never live metrics, and shuts down cleanly
// with the actor system.
#include <gtest/gtest.h>

#include <thread>

#include "metron/actors.hpp"
#include "metron/json.hpp"
#include "metron/prometheus.hpp"
#include "raw_http.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

// Polls GET path until pred(body) holds; bounded.
template <class Pred>
std::string scrape_until(std::uint16_t port, const std::string& path, Pred pred,
                         std::chrono::seconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string body;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = t::get(port, path);
    body = r.body;
    if (r.status == 200 && pred(body))
      return body;
    std::this_thread::sleep_for(20ms);
  }
  return body;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

} // namespace

TEST(exporter, serves_the_monitors_snapshots_with_quantiles_as_a_summary) {
  registry reg; // outlives the actor system
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  monitor_config mcfg;
  mcfg.interval = 20ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
  ASSERT_NE(ex.port(), 0);
  reg.counter("jobs_done").add(42);
  auto& h = reg.histogram("job_seconds", {{"queue", "a\"b"}});
  for (int i = 1; i <= 100; ++i)
    h.record(i * 0.01);
  auto body = scrape_until(ex.port(), "/metrics", [](auto& b) {
    return has(b, "jobs_done_total 42\n") && has(b, "job_seconds_count{queue=\"a\\\"b\"} 100\n");
  });
  EXPECT_TRUE(has(body, "jobs_done_total 42\n")) << body;
  EXPECT_TRUE(has(body, "# TYPE job_seconds_quantiles summary\n")) << body;
  EXPECT_TRUE(has(body, "job_seconds_quantiles{queue=\"a\\\"b\",quantile=\"0.99\"} ")) << body;
  EXPECT_TRUE(has(body, "# TYPE metron_ticks_total counter\n")) << body; // the monitor's own
  auto json_body = scrape_until(ex.port(), "/metrics.json", [](auto& b) { return has(b, "\"jobs_done\""); });
  EXPECT_TRUE(has(json_body, "\"quantiles\":[{\"q\":0.5,")) << json_body;
}

TEST(exporter, a_scrape_serves_the_stored_snapshot_not_live_metrics) {
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  monitor_config mcfg;
  mcfg.interval = std::chrono::hours{1}; // one tick at start, then none during the test
  auto& c = reg.counter("events");
  c.add(5);
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.port = 0}};
  ASSERT_NE(ex.latest(), nullptr); // the constructor's get_atom answered
  c.add(1000);                     // live, not in any snapshot
  auto r = t::get(ex.port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, prom::render_text(*ex.latest()));
  EXPECT_TRUE(has(r.body, "events_total 5\n")) << r.body;
}

TEST(exporter, stops_cleanly_before_the_actor_system_and_is_idempotent) {
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto mon = spawn_monitor(sys, reg, {});
  auto ex = std::make_unique<prom::exporter>(sys, mon, prom::server_config{.port = 0});
  auto port = ex->port();
  EXPECT_EQ(t::get(port, "/metrics").status, 200);
  ex->stop();
  EXPECT_EQ(t::connect_local(port), -1);
  ex->stop();
  ex.reset();
  // Leaving the scope destroys the system: it must not wait on a leftover subscriber
  // (the test's timeout would catch a hang).
}

TEST(exporter, a_taken_port_throws_and_leaves_nothing_subscribed) {
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto mon = spawn_monitor(sys, reg, {});
  prom::exporter a{sys, mon, {.port = 0}};
  EXPECT_THROW((prom::exporter{sys, mon, {.port = a.port()}}), std::system_error);
}
