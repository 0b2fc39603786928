// The HTTP endpoint's defences, each refusal counted: the client allowlist, the total
// and per-address connection caps, the header deadline apart from the keep-alive idle
// limit, basic auth, and the server's own counters in /metrics (docs/http-security.md).
// Other clients are played from 127.0.0.2 (all of 127.0.0.0/8 is loopback).
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "metron/prometheus/http_server.hpp"
#include "raw_http.hpp"
#include "server_support.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

constexpr const char* other_client = "127.0.0.2";

// A connection that the server admitted: it has answered one keep-alive request.
int admitted_connection(std::uint16_t port, const char* from) {
  int fd = t::connect_local(port, 10, from);
  std::string buffer;
  if (fd < 0 || !t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n") ||
      t::read_response(fd, buffer).status != 200) {
    if (fd >= 0)
      ::close(fd);
    return -1;
  }
  return fd;
}

// True if a fresh connection from `from` is closed without an answer (refused on accept).
bool refused(std::uint16_t port, const char* from = nullptr) {
  int fd = t::connect_local(port, 10, from);
  if (fd < 0)
    return true;
  t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"); // may fail: already reset
  std::string buffer;
  bool answered = t::read_response(fd, buffer).status != 0;
  ::close(fd);
  return !answered;
}

} // namespace

TEST(http_limits, the_allowlist_resets_other_addresses_and_counts_them) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.allow = {"127.0.0.2", "10.0.0.0/8", "::1"};
  prom::http_server server{cfg, [&] { return snap; }};
  EXPECT_EQ(t::get(server.port(), "/metrics", {}, other_client).status, 200);
  EXPECT_TRUE(refused(server.port()));                 // from 127.0.0.1
  EXPECT_TRUE(refused(server.port(), "127.0.0.3"));
  auto s = server.stats();
  EXPECT_EQ(s.refused_not_allowed, 2u);
  EXPECT_EQ(s.accepted, 1u);
}

TEST(http_limits, allowlist_prefixes_match_by_their_length) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.allow = {"127.0.0.0/31"}; // .0 and .1
  prom::http_server server{cfg, [&] { return snap; }};
  EXPECT_EQ(t::get(server.port(), "/metrics").status, 200);
  EXPECT_TRUE(refused(server.port(), other_client));
  cfg.allow = {"127.0.0.0/8"};
  prom::http_server wide{cfg, [&] { return snap; }};
  EXPECT_EQ(t::get(wide.port(), "/metrics", {}, other_client).status, 200);
  cfg.allow = {"::ffff:127.0.0.2/128"}; // the IPv4-mapped form of 127.0.0.2
  prom::http_server mapped{cfg, [&] { return snap; }};
  EXPECT_EQ(t::get(mapped.port(), "/metrics", {}, other_client).status, 200);
  EXPECT_TRUE(refused(mapped.port()));
}

TEST(http_limits, bad_allowlist_entries_are_refused_at_construction) {
  auto snap = t::sample_snapshot();
  for (std::string bad : {"localhost", "127.0.0.1/33", "10.0.0.0/", "10.0.0.0/x", "::1/129", ""}) {
    auto cfg = t::local_config();
    cfg.allow = {bad};
    EXPECT_THROW((prom::http_server{cfg, [&] { return snap; }}), std::invalid_argument) << bad;
  }
}

TEST(http_limits, one_address_cannot_take_another_addresss_connections) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.max_connections_per_address = 3;
  prom::http_server server{cfg, [&] { return snap; }};
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(admitted_connection(server.port(), other_client));
    ASSERT_GE(held.back(), 0);
  }
  EXPECT_TRUE(refused(server.port(), other_client));
  EXPECT_TRUE(refused(server.port(), other_client));
  EXPECT_EQ(t::get(server.port(), "/metrics").status, 200); // 127.0.0.1 has its own share
  auto s = server.stats();
  EXPECT_EQ(s.refused_address_cap, 2u);
  EXPECT_EQ(s.refused_total_cap, 0u);
  EXPECT_EQ(s.accepted, 4u);
  for (int fd : held)
    ::close(fd);
}

TEST(http_limits, the_total_cap_is_counted_apart) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.max_connections = 2;
  prom::http_server server{cfg, [&] { return snap; }};
  int a = admitted_connection(server.port(), nullptr);
  int b = admitted_connection(server.port(), other_client);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_TRUE(refused(server.port(), "127.0.0.3"));
  EXPECT_EQ(server.stats().refused_total_cap, 1u);
  EXPECT_EQ(server.stats().refused_address_cap, 0u);
  ::close(a);
  ::close(b);
}

TEST(http_limits, a_header_that_does_not_complete_in_time_is_cut_and_counted) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config(10min); // the idle limit cannot be what closes them
  cfg.header_timeout = 200ms;
  prom::http_server server{cfg, [&] { return snap; }};
  int partial = t::connect_local(server.port());
  int silent = t::connect_local(server.port()); // connects and never sends a byte
  ASSERT_GE(partial, 0);
  ASSERT_GE(silent, 0);
  ASSERT_TRUE(t::send_all(partial, "GET /metrics HTTP/1.1\r\nHost:"));
  EXPECT_TRUE(t::closed_by_peer_within(partial, 10s));
  EXPECT_TRUE(t::closed_by_peer_within(silent, 10s));
  ::close(partial);
  ::close(silent);
  EXPECT_EQ(server.stats().header_timeouts, 2u);
  EXPECT_EQ(server.stats().read_timeouts, 0u);
}

TEST(http_limits, an_idle_keep_alive_connection_is_closed_by_the_idle_limit_not_the_header_deadline) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config(200ms);
  cfg.header_timeout = 10min; // only the idle limit can close it
  prom::http_server server{cfg, [&] { return snap; }};
  int fd = admitted_connection(server.port(), nullptr);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(t::closed_by_peer_within(fd, 10s));
  ::close(fd);
  EXPECT_EQ(server.stats().read_timeouts, 1u);
  EXPECT_EQ(server.stats().header_timeouts, 0u);
}

TEST(http_limits, basic_auth_answers_401_until_the_right_credentials_and_counts_failures) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.basic_auth_user = "prometheus";
  cfg.basic_auth_password = "s3cret:with colon";
  prom::http_server server{cfg, [&] { return snap; }};
  auto none = t::get(server.port(), "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Basic realm=\"metron\", charset=\"UTF-8\"");
  EXPECT_EQ(none.body.find("scrapes_test"), std::string::npos);
  auto header = [](const std::string& v) { return "Authorization: " + v + "\r\n"; };
  for (std::string wrong : std::vector<std::string>{"Basic " + t::base64("prometheus:s3cret"), "Basic " + t::base64("other:s3cret:with colon"),
                            "Basic " + t::base64("prometheus:s3cret:with colon") + "x", "Basic !!!!",
                            "Bearer " + t::base64("prometheus:s3cret:with colon"), "Basic"})
    EXPECT_EQ(t::get(server.port(), "/metrics", header(wrong)).status, 401) << wrong;
  EXPECT_EQ(t::get(server.port(), "/nope", header("Basic x")).status, 401); // paths are not revealed
  auto ok = t::get(server.port(), "/metrics", header("Basic " + t::base64("prometheus:s3cret:with colon")));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, prom::render_text(*snap));
  EXPECT_EQ(t::get(server.port(), "/metrics.json", header("basic " + t::base64("prometheus:s3cret:with colon"))).status,
            200);
  EXPECT_EQ(server.stats().auth_failures, 8u);
}

TEST(http_limits, self_metrics_put_the_servers_counters_in_metrics) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.self_metrics = true;
  cfg.max_connections_per_address = 1;
  prom::http_server server{cfg, [&] { return snap; }};
  int held = admitted_connection(server.port(), other_client);
  ASSERT_GE(held, 0);
  EXPECT_TRUE(refused(server.port(), other_client));
  auto r = t::get(server.port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  auto plain = prom::render_text(*snap);
  EXPECT_EQ(r.body.substr(0, plain.size()), plain); // the snapshot first, unchanged
  EXPECT_NE(r.body.find("\nmetron_http_connections_refused_total{reason=\"address_cap\"} 1\n"), std::string::npos)
    << r.body;
  EXPECT_NE(r.body.find("\nmetron_http_connections_accepted_total 2\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("# TYPE metron_http_requests_refused_total counter\n"), std::string::npos);
  EXPECT_EQ(t::get(server.port(), "/metrics.json").body.find("metron_http"), std::string::npos); // text only
  ::close(held);
}

TEST(http_limits, a_per_address_cap_of_zero_means_none) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.max_connections_per_address = 0;
  cfg.max_connections = 3;
  prom::http_server server{cfg, [&] { return snap; }};
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(admitted_connection(server.port(), other_client));
    ASSERT_GE(held.back(), 0);
  }
  EXPECT_TRUE(refused(server.port(), other_client)); // only the total cap applies
  EXPECT_EQ(server.stats().refused_total_cap, 1u);
  EXPECT_EQ(server.stats().refused_address_cap, 0u);
  for (int fd : held)
    ::close(fd);
}

TEST(http_limits, with_two_io_threads_every_connection_is_either_served_or_counted_as_refused) {
  auto snap = t::sample_snapshot();
  auto cfg = t::local_config();
  cfg.threads = 2;
  cfg.max_connections_per_address = 4;
  prom::http_server server{cfg, [&] { return snap; }};
  auto expected = prom::render_text(*snap);
  constexpr int clients = 16, rounds = 20;
  std::atomic<std::uint64_t> served{0}, unanswered{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, from = c % 2 ? other_client : "127.0.0.1"] {
      for (int i = 0; i < rounds; ++i) {
        auto r = t::get(server.port(), "/metrics", {}, from);
        if (r.status == 200 && r.body == expected)
          served.fetch_add(1);
        else
          unanswered.fetch_add(1);
      }
    });
  for (auto& th : threads)
    th.join();
  auto s = server.stats();
  // The single-threaded reference: one admitted connection, one response; one refusal,
  // one count. Nothing is lost or counted twice between the two io threads.
  EXPECT_EQ(served.load() + unanswered.load(), static_cast<std::uint64_t>(clients * rounds));
  EXPECT_EQ(s.accepted, served.load());
  EXPECT_EQ(s.refused_address_cap, unanswered.load());
  EXPECT_EQ(s.requests, served.load());
  EXPECT_GT(served.load(), 0u);
}
