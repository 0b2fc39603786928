// The real thing: a Prometheus 2.42 server started with
// --web.enable-remote-write-receiver (scraping nothing) receives what a
// remote_write::writer pushes from a monitor's reports; the test asks its HTTP API
// and finds a counter's value and a histogram's count and bucket exactly, the
// writer's own counters, and, for a writer started before the server, every sample
// it pushed once the server is up.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "metron/actors.hpp"
#include "metron/remote_write.hpp"
#include "prometheus_process.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace rw = metron::remote_write;
namespace t = metron::test;

namespace {

const std::vector<std::string> receiver_flags{"--web.enable-remote-write-receiver"};

rw::config writer_config(std::uint16_t port) {
  rw::config cfg;
  cfg.url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/write";
  cfg.push_interval = 0ms; // every report
  cfg.min_backoff = 20ms;
  cfg.max_backoff = 200ms;
  cfg.external_labels = {{"job", "rwtest"}, {"instance", "node-1"}};
  return cfg;
}

// A registry, an actor system and a monitor of the registry ticking every `interval`.
struct monitored {
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  monitor_actor mon;
  explicit monitored(std::chrono::milliseconds interval) {
    monitor_config m;
    m.interval = interval;
    mon = spawn_monitor(sys, reg, m);
  }
};

// Polls a condition on the writer's counters (it has nothing to await); bounded.
template <class Pred>
bool stats_until(const rw::writer& w, Pred pred, std::chrono::seconds limit = 60s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(w.stats()))
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

} // namespace

TEST(remote_write_prometheus, a_pushed_counter_and_histogram_are_queried_back_exactly) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0)
    << t::prometheus_bin << " missing: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  t::prometheus_process server{"", receiver_flags};
  ASSERT_TRUE(server.running()) << server.log();

  monitored m{100ms};
  m.reg.counter("rw_jobs_done", {{"queue", "mail"}}, "Jobs done.").add(42);
  auto& h = m.reg.histogram("rw_latency_seconds", {}, "Latency.");
  for (double v : {0.001, 0.001, 0.001, 0.01, 0.01, 0.01, 0.01, 0.01, 0.1, 0.1})
    h.record(v);
  auto cfg = writer_config(server.port());
  cfg.metrics = &m.reg; // the writer's own counters are pushed too
  rw::writer w{m.sys, m.mon, cfg};

  std::string why;
  auto exact = [](double want) { return [want](double v) { return v == want; }; };
  EXPECT_EQ(t::query_until(server.port(), R"(rw_jobs_done_total{job="rwtest",instance="node-1",queue="mail"})",
                           exact(42), why),
            42)
    << why << "\nlog:\n" << server.log();
  EXPECT_EQ(t::query_until(server.port(), R"(rw_latency_seconds_count{job="rwtest"})", exact(10), why), 10) << why;
  EXPECT_EQ(t::query_until(server.port(), R"(rw_latency_seconds_bucket{job="rwtest",le="0.0625"})", exact(8), why), 8)
    << why;
  EXPECT_EQ(t::query_until(server.port(), R"(rw_latency_seconds_bucket{job="rwtest",le="+Inf"})", exact(10), why), 10)
    << why;
  EXPECT_GT(t::query_until(server.port(), R"(metron_remote_write_batches_total{job="rwtest"})",
                           [](double v) { return v > 0; }, why),
            0)
    << why;

  ASSERT_TRUE(w.flush(30s));
  w.stop();
  auto st = w.stats();
  EXPECT_GT(st.sent_batches, 0u);
  EXPECT_EQ(st.dropped_queue_full + st.dropped_rejected, 0u);
  EXPECT_EQ(st.sent_batches + st.dropped_shutdown, st.enqueued_batches);
}

TEST(remote_write_prometheus, flush_pushes_what_was_recorded_before_it_whatever_the_interval) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0) << t::prometheus_bin << " missing";
  t::prometheus_process server{"", receiver_flags};
  ASSERT_TRUE(server.running()) << server.log();
  monitored m{50ms};
  auto& rows = m.reg.counter("rw_rows", {}, "Rows imported.");
  auto cfg = writer_config(server.port());
  cfg.push_interval = std::chrono::hours{1}; // only the first report and flushes are pushed
  rw::writer w{m.sys, m.mon, cfg};
  for (std::uint64_t batch = 1; batch <= 3; ++batch) {
    rows.add(100);
    ASSERT_TRUE(w.flush(30s)) << "batch " << batch;
    // Sent means stored: asked once, no polling.
    std::string why;
    EXPECT_EQ(t::query(server.port(), R"(rw_rows_total{job="rwtest"})", &why), static_cast<double>(100 * batch))
      << why;
  }
  w.stop();
  EXPECT_FALSE(w.flush(1s)); // nothing to flush into after stop()
}

TEST(remote_write_prometheus, a_writer_started_before_prometheus_delivers_every_sample_once_it_is_up) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0) << t::prometheus_bin << " missing";
  monitored m{100ms};
  m.reg.counter("rw_early", {}, "Pushed before the server was up.").add(7);
  const std::uint16_t port = t::free_port();
  auto cfg = writer_config(port);
  cfg.queue_capacity = 10'000; // nothing is dropped while the server is down
  rw::writer w{m.sys, m.mon, cfg};

  // Connection refused, retried with backoff, while reports keep coming.
  ASSERT_TRUE(stats_until(w, [](const rw::sender_stats& s) { return s.failed_attempts >= 3 && s.queued >= 3; }));
  EXPECT_EQ(w.stats().sent_batches, 0u);

  t::prometheus_process server{"", receiver_flags, port};
  ASSERT_TRUE(server.running()) << server.log();
  std::string why;
  EXPECT_EQ(t::query_until(server.port(), R"(rw_early_total{job="rwtest"})", [](double v) { return v == 7; }, why), 7)
    << why << "\nlog:\n" << server.log();
  w.stop(); // no more reports: the counts below are final
  auto st = w.stats();
  EXPECT_EQ(st.dropped_queue_full + st.dropped_rejected, 0u);
  EXPECT_GT(st.retries, 0u);
  // Every request that was sent is in Prometheus: one rw_early sample per request
  // (each report fits in one), none lost while the server was down. stop() may have
  // cut one short on the wire: counted as dropped at shutdown, perhaps stored.
  const double sent = static_cast<double>(st.sent_batches);
  const double cut = st.dropped_shutdown > 0 ? 1 : 0;
  double stored = t::query_until(server.port(), R"(count_over_time(rw_early_total{job="rwtest"}[1h]))",
                                 [&](double v) { return v >= sent; }, why, 30s);
  EXPECT_GE(stored, sent) << why;
  EXPECT_LE(stored, sent + cut) << why;
  EXPECT_EQ(st.sent_batches + st.dropped_shutdown, st.enqueued_batches);
}
