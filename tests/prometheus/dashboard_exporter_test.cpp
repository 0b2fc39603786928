// The dashboard's streams against a real monitor: each /events connection is one more
// subscriber (metron_subscribers), receives the monitor's ticks as frames, and is
// unsubscribed when the connection closes; a browser that stops reading runs out of
// the fan-out's credit like any subscriber, and the skips are counted.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <thread>

#include "metron/actors.hpp"
#include "metron/prometheus.hpp"
#include "raw_http.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

// Polls the exporter's latest report until pred holds for it; bounded.
template <class Pred>
bool latest_until(prom::exporter& ex, Pred pred, std::chrono::seconds limit = 20s) {
  for (auto deadline = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < deadline;) {
    if (auto s = ex.latest(); s && pred(*s))
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

double gauge_value(const report& s, const char* name) {
  auto* g = s.find_gauge(name);
  return g ? g->value() : -1;
}

std::uint64_t counter_value(const report& s, const char* name) {
  auto* c = s.find_counter(name);
  return c ? c->value() : 0;
}

// Reads from fd until buffer holds `n` complete frames containing `what`; false if
// the connection ends or stays silent (the socket's 10 s timeout) first.
bool read_frames(int fd, std::string& buffer, const std::string& what, int n) {
  for (;;) {
    int seen = 0;
    for (auto pos = buffer.find("event: tick\ndata: "); pos != std::string::npos;
         pos = buffer.find("event: tick\ndata: ", pos + 1)) {
      auto end = buffer.find("\n\n", pos);
      if (end != std::string::npos && buffer.substr(pos, end - pos).find(what) != std::string::npos)
        ++seen;
    }
    if (seen >= n)
      return true;
    char chunk[65536];
    auto got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0)
      return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
}

int open_stream(std::uint16_t port, std::string& buffer) {
  int fd = t::connect_local(port);
  if (fd < 0 || !t::send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"))
    return -1;
  return t::read_response_headers(fd, buffer).status == 200 ? fd : -1;
}

struct exporter_dashboard : ::testing::Test {
  registry reg; // outlives the actor system
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
};

} // namespace

TEST_F(exporter_dashboard, each_stream_is_a_subscriber_gets_the_ticks_and_is_unsubscribed_on_close) {
  monitor_config mcfg;
  mcfg.interval = 10ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
  reg.counter("jobs_total").add(7);
  auto& h = reg.histogram("job_seconds");
  ASSERT_TRUE(latest_until(ex, [](auto& s) { return gauge_value(s, "metron_subscribers") == 1; })); // the exporter
  std::string buffer;
  int fd = open_stream(ex.port(), buffer);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(latest_until(ex, [](auto& s) { return gauge_value(s, "metron_subscribers") == 2; }));
  // Frames with the series; once values are recorded between two ticks, the tick's buckets.
  ASSERT_TRUE(read_frames(fd, buffer, "{\"n\":\"jobs_total\",\"l\":{},\"v\":7,", 2)) << buffer;
  for (int i = 0; i < 1000; ++i)
    h.record(0.004);
  EXPECT_TRUE(read_frames(fd, buffer, "\"b\":[", 1)) << buffer.substr(buffer.size() > 2000 ? buffer.size() - 2000 : 0);
  // A second page is a third subscriber; closing both unsubscribes both.
  std::string buffer2;
  int fd2 = open_stream(ex.port(), buffer2);
  ASSERT_GE(fd2, 0);
  EXPECT_TRUE(read_frames(fd2, buffer2, "\"jobs_total\"", 1));
  ASSERT_TRUE(latest_until(ex, [](auto& s) { return gauge_value(s, "metron_subscribers") == 3; }));
  ::close(fd);
  ::close(fd2);
  EXPECT_TRUE(latest_until(ex, [](auto& s) { return gauge_value(s, "metron_subscribers") == 1; }));
  EXPECT_TRUE(latest_until(ex, [&](auto&) { return ex.server().stats().streams_open == 0; }));
  EXPECT_EQ(ex.server().stats().streams_opened, 2u);
}

TEST_F(exporter_dashboard, a_browser_that_stops_reading_runs_out_of_credit_and_the_skips_are_counted) {
  monitor_config mcfg;
  mcfg.interval = 5ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::server_config scfg{.address = "127.0.0.1", .port = 0};
  scfg.write_timeout = 60s; // keep the stalled connection: the fan-out's credit is what is tested
  prom::exporter ex{sys, mon, scfg};
  // Enough series that each frame is ~100 KB, so the socket buffers fill in a few ticks.
  for (int i = 0; i < 400; ++i) {
    auto& h = reg.histogram("spread_seconds", {{"i", std::to_string(i)}});
    for (int j = 1; j <= 20; ++j)
      h.record(j * 0.001 * (i + 1));
  }
  auto dropped_before = [&] {
    auto s = ex.latest();
    return s ? counter_value(*s, "metron_dropped_snapshots_total") : 0;
  }();
  std::string buffer;
  int fd = open_stream(ex.port(), buffer); // reads the head, then nothing
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(latest_until(ex, [&](auto& s) { return counter_value(s, "metron_dropped_snapshots_total") >= dropped_before + 20; }))
    << "the fan-out never skipped the stalled page";
  // Meanwhile the exporter's own subscriber (credit of its own) is still served.
  auto seq = ex.latest()->sequence();
  EXPECT_TRUE(latest_until(ex, [&](auto& s) { return s.sequence() > seq + 5; }));
  EXPECT_EQ(ex.server().stats().write_timeouts, 0u);
  ::close(fd);
  EXPECT_TRUE(latest_until(ex, [](auto& s) { return gauge_value(s, "metron_subscribers") == 1; }));
}

TEST_F(exporter_dashboard, stopping_the_exporter_with_a_page_open_closes_it_and_unsubscribes_its_actor) {
  monitor_config mcfg;
  mcfg.interval = 10ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  auto ex = std::make_unique<prom::exporter>(sys, mon, prom::server_config{.address = "127.0.0.1", .port = 0});
  std::string buffer;
  int fd = open_stream(ex->port(), buffer);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(read_frames(fd, buffer, "metron_ticks_total", 1));
  ex.reset(); // the server goes first; the page's actor learns of it afterwards
  EXPECT_TRUE(t::closed_by_peer_within(fd, 10s));
  ::close(fd);
  caf::scoped_actor self{sys};
  double subscribers = -1;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       subscribers != 0 && std::chrono::steady_clock::now() < deadline;) {
    self->request(mon, 5s, get_atom::value)
      .receive([&](report_ptr s) { subscribers = s ? gauge_value(*s, "metron_subscribers") : -1; },
               [](caf::error&) {});
    if (subscribers != 0)
      std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(subscribers, 0);
}
