// The HTTP endpoint against raw sockets: routes and statuses, malformed and oversized
// requests, slow clients, keep-alive, 50 concurrent scrapes, ports and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "metron/json.hpp"
#include "metron/metron.hpp"
#include "metron/prometheus/http_server.hpp"
#include "raw_http.hpp"
#include "server_support.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

using t::sample_snapshot;

prom::server_config local(std::chrono::milliseconds read_timeout = 10s) {
  return t::local_config(read_timeout);
}

struct fixture : ::testing::Test {
  report_ptr snap = sample_snapshot();
  prom::http_server server{local(), [this] { return snap; }};
};

} // namespace

TEST_F(fixture, serves_metrics_as_text_exposition) {
  ASSERT_NE(server.port(), 0);
  auto r = t::get(server.port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body, prom::render_text(*snap));
  EXPECT_NE(r.body.find("scrapes_test_total{k=\"v\"} 5\n"), std::string::npos);
}

TEST_F(fixture, serves_metrics_json_and_ignores_query_strings) {
  auto r = t::get(server.port(), "/metrics.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, json::render(*snap));
  EXPECT_EQ(t::get(server.port(), "/metrics?debug=1").body, prom::render_text(*snap));
}

TEST_F(fixture, unknown_paths_get_404) {
  EXPECT_EQ(t::get(server.port(), "/").status, 404);
  EXPECT_EQ(t::get(server.port(), "/metricsx").status, 404);
  EXPECT_EQ(t::get(server.port(), "/metrics/").status, 404);
}

TEST_F(fixture, other_methods_get_405_with_allow) {
  auto r = t::request(server.port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                     "Connection: close\r\n\r\nabc");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  EXPECT_EQ(t::request(server.port(), "DELETE /metrics HTTP/1.1\r\nConnection: close\r\n\r\n").status, 405);
  EXPECT_EQ(t::request(server.port(), "BREW /metrics HTTP/1.1\r\nConnection: close\r\n\r\n").status, 405);
}

TEST_F(fixture, malformed_requests_get_400_and_a_closed_connection) {
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET /metrics HTTP/9.Z\r\n\r\n",
                          "GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n",
                          "GET /metrics HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                          "\x01\x02\x03\r\n\r\n"}) {
    int fd = t::connect_local(server.port());
    ASSERT_GE(fd, 0);
    std::string buffer;
    ASSERT_TRUE(t::send_all(fd, bad));
    auto r = t::read_response(fd, buffer);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(t::closed_by_peer_within(fd, 5s)) << bad;
    ::close(fd);
  }
  EXPECT_EQ(t::get(server.port(), "/metrics").status, 200); // the server is unaffected
}

TEST_F(fixture, oversized_requests_get_413_or_a_closed_connection) {
  std::string huge_header = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(100'000, 'a') + "\r\n\r\n";
  std::string huge_body = "GET /metrics HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n" + std::string(1'000'000, 'b');
  std::string huge_target = "GET /" + std::string(100'000, 'm') + " HTTP/1.1\r\n\r\n";
  for (auto* req : {&huge_header, &huge_body, &huge_target}) {
    int fd = t::connect_local(server.port());
    ASSERT_GE(fd, 0);
    std::string buffer;
    t::send_all(fd, *req); // may fail part-way once the server closes: that is allowed
    auto r = t::read_response(fd, buffer);
    EXPECT_TRUE(r.status == 413 || r.status == 0) << r.status;
    EXPECT_TRUE(r.status != 0 || t::closed_by_peer_within(fd, 5s));
    ::close(fd);
  }
  EXPECT_EQ(t::get(server.port(), "/metrics").status, 200);
}

TEST_F(fixture, keep_alive_serves_several_requests_on_one_connection) {
  int fd = t::connect_local(server.port());
  ASSERT_GE(fd, 0);
  std::string buffer;
  // Two pipelined, then one more after reading.
  ASSERT_TRUE(t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /metrics.json HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(t::read_response(fd, buffer).body, prom::render_text(*snap));
  EXPECT_EQ(t::read_response(fd, buffer).body, json::render(*snap));
  ASSERT_TRUE(t::send_all(fd, "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(t::read_response(fd, buffer).status, 404);
  ::close(fd);
}

TEST(http_server, slow_clients_time_out_without_blocking_others) {
  auto snap = sample_snapshot();
  prom::http_server server{local(300ms), [&] { return snap; }};
  int slow = t::connect_local(server.port());
  int idle = t::connect_local(server.port());
  ASSERT_GE(slow, 0);
  ASSERT_GE(idle, 0);
  ASSERT_TRUE(t::send_all(slow, "GET /metr")); // and then nothing more
  // While both hang, others are served (single io thread: nothing blocks on them).
  EXPECT_EQ(t::get(server.port(), "/metrics").status, 200);
  // Bounded generously: the point is that they are closed at all, not when.
  EXPECT_TRUE(t::closed_by_peer_within(slow, 10s));
  EXPECT_TRUE(t::closed_by_peer_within(idle, 10s));
  ::close(slow);
  ::close(idle);
  EXPECT_EQ(t::get(server.port(), "/metrics").status, 200);
}

TEST(http_server, fifty_concurrent_scrapes_all_succeed) {
  auto snap = sample_snapshot();
  prom::http_server server{local(), [&] { return snap; }};
  auto expected = prom::render_text(*snap);
  // Open all 50 connections first, so they are really concurrent, then scrape.
  std::vector<int> fds;
  for (int i = 0; i < 50; ++i) {
    fds.push_back(t::connect_local(server.port()));
    ASSERT_GE(fds.back(), 0);
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i)
    clients.emplace_back([&, fd = fds[i]] {
      std::string buffer;
      if (!t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        return;
      auto r = t::read_response(fd, buffer);
      if (r.status == 200 && r.body == expected)
        ok.fetch_add(1);
      ::close(fd);
    });
  for (auto& c : clients)
    c.join();
  EXPECT_EQ(ok.load(), 50);
}

TEST(http_server, two_io_threads_serve_concurrent_scrapes) {
  auto snap = sample_snapshot();
  auto cfg = local();
  cfg.threads = 2;
  prom::http_server server{cfg, [&] { return snap; }};
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 20; ++i)
    clients.emplace_back([&] {
      for (int k = 0; k < 5; ++k)
        ok.fetch_add(t::get(server.port(), k % 2 ? "/metrics" : "/metrics.json").status == 200);
    });
  for (auto& c : clients)
    c.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST(http_server, no_snapshot_yet_serves_an_empty_exposition_and_errors_give_500) {
  prom::http_server empty{local(), [] { return report_ptr{}; }};
  auto r = t::get(empty.port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(t::get(empty.port(), "/metrics.json").body, json::render(report{}));
  prom::http_server failing{local(), []() -> report_ptr { throw std::runtime_error("boom"); }};
  auto e = t::get(failing.port(), "/metrics");
  EXPECT_EQ(e.status, 500);
  EXPECT_NE(e.body.find("boom"), std::string::npos);
}

TEST(http_server, port_zero_picks_distinct_free_ports_and_a_taken_port_throws) {
  auto snap = sample_snapshot();
  prom::http_server a{local(), [&] { return snap; }};
  prom::http_server b{local(), [&] { return snap; }};
  EXPECT_NE(a.port(), 0);
  EXPECT_NE(a.port(), b.port());
  EXPECT_EQ(a.address(), "127.0.0.1");
  auto cfg = local();
  cfg.port = a.port();
  EXPECT_THROW((prom::http_server{cfg, [&] { return snap; }}), std::system_error);
  cfg.address = "not an address";
  cfg.port = 0;
  EXPECT_ANY_THROW((prom::http_server{cfg, [&] { return snap; }}));
}

TEST(http_server, stop_is_idempotent_and_closes_open_connections) {
  auto snap = sample_snapshot();
  auto server = std::make_unique<prom::http_server>(local(), [&] { return snap; });
  auto port = server->port();
  int idle = t::connect_local(port);
  ASSERT_GE(idle, 0);
  EXPECT_EQ(t::get(port, "/metrics").status, 200);
  EXPECT_GE(server->requests(), 1u);
  server->stop();
  EXPECT_TRUE(t::closed_by_peer_within(idle, 5s));
  ::close(idle);
  EXPECT_EQ(t::connect_local(port), -1); // nobody listens any more
  server->stop();
  server.reset(); // the destructor after stop()
}

TEST(http_server, connections_beyond_the_limit_are_closed_and_others_still_served) {
  auto snap = sample_snapshot();
  auto cfg = local();
  cfg.max_connections = 2;
  prom::http_server server{cfg, [&] { return snap; }};
  int a = t::connect_local(server.port());
  int b = t::connect_local(server.port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // Make sure both were accepted and are open sessions (each answers a request).
  std::string ba, bb;
  ASSERT_TRUE(t::send_all(a, "GET /metrics HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(t::send_all(b, "GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(t::read_response(a, ba).status, 200);
  EXPECT_EQ(t::read_response(b, bb).status, 200);
  int c = t::connect_local(server.port()); // the TCP handshake completes in the kernel
  ASSERT_GE(c, 0);
  EXPECT_TRUE(t::closed_by_peer_within(c, 5s));
  ::close(c);
  ::close(a);
  ::close(b);
  // Slots free up once the server notices the closes; poll, bounded.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = t::get(server.port(), "/metrics").status;
    if (status != 200)
      std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 200);
}

TEST_F(fixture, head_is_answered_like_get_without_a_body) {
  auto body = prom::render_text(*snap);
  int fd = t::connect_local(server.port());
  ASSERT_GE(fd, 0);
  // HEAD then GET on one connection: if HEAD sent a body, the GET's response would
  // be read out of it.
  ASSERT_TRUE(t::send_all(fd, "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
  std::string buffer;
  auto head = t::read_response_headers(fd, buffer);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(body.size()));
  EXPECT_EQ(head.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  ASSERT_TRUE(t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
  auto get = t::read_response(fd, buffer);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, body);
  ::close(fd);
  fd = t::connect_local(server.port());
  ASSERT_TRUE(t::send_all(fd, "HEAD /nope HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(t::read_response_headers(fd, buffer).status, 404);
  EXPECT_TRUE(t::closed_by_peer_within(fd, 5s)); // and no body came before the close
  EXPECT_TRUE(buffer.empty());
  ::close(fd);
}

TEST_F(fixture, absolute_form_targets_are_routed_by_their_path) {
  auto text = prom::render_text(*snap);
  for (std::string target : {"http://127.0.0.1/metrics", "http://localhost:9464/metrics?x=1", "HTTP://h/metrics"}) {
    auto r = t::request(server.port(), "GET " + target + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body, text) << target;
  }
  EXPECT_EQ(t::request(server.port(), "GET http://h/metrics.json HTTP/1.1\r\nConnection: close\r\n\r\n").body,
            json::render(*snap));
  EXPECT_EQ(t::request(server.port(), "GET http://h HTTP/1.1\r\nConnection: close\r\n\r\n").status, 404);
  EXPECT_EQ(t::request(server.port(), "GET ftp://h/metrics HTTP/1.1\r\nConnection: close\r\n\r\n").status, 404);
}

TEST_F(fixture, expect_100_continue_gets_100_then_the_response) {
  int fd = t::connect_local(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::string buffer;
  // The 100 comes before the body is sent (the socket's 10 s receive timeout bounds a hang).
  auto interim = t::read_response_headers(fd, buffer);
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(t::send_all(fd, "body"));
  auto r = t::read_response(fd, buffer);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, prom::render_text(*snap));
  ::close(fd);
}

TEST_F(fixture, expect_100_continue_on_a_failing_request_gets_the_final_status_at_once) {
  for (std::string req : {"POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
                          "GET /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"}) {
    int fd = t::connect_local(server.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(t::send_all(fd, req));
    std::string buffer;
    auto r = t::read_response(fd, buffer); // no body is ever sent
    EXPECT_TRUE(r.status == 405 || r.status == 404) << r.status;
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_TRUE(t::closed_by_peer_within(fd, 5s));
    ::close(fd);
  }
  auto r = t::request(server.port(), "GET /metrics HTTP/1.1\r\nExpect: something-else\r\n\r\n");
  EXPECT_EQ(r.status, 417);
  EXPECT_EQ(server.stats().bad_requests, 1u);
}

TEST_F(fixture, accept_openmetrics_gets_openmetrics_and_head_its_length) {
  const std::string accept = "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n";
  auto om = prom::render_openmetrics(*snap);
  auto r = t::get(server.port(), "/metrics", accept);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(r.body, om);
  EXPECT_TRUE(r.body.ends_with("# EOF\n"));
  // Anything else: 0.0.4, as before.
  EXPECT_EQ(t::get(server.port(), "/metrics", "Accept: text/plain;version=0.0.4\r\n").body, prom::render_text(*snap));
  EXPECT_EQ(t::get(server.port(), "/metrics", "Accept: application/openmetrics-text;version=0.0.1\r\n").body,
            prom::render_text(*snap));
  // JSON ignores Accept.
  EXPECT_EQ(t::get(server.port(), "/metrics.json", accept).headers["content-type"], "application/json");
  // HEAD: the OpenMetrics headers and length, no body (the GET after it is read intact).
  int fd = t::connect_local(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(t::send_all(fd, "HEAD /metrics HTTP/1.1\r\nHost: a\r\n" + accept + "\r\n"));
  std::string buffer;
  auto head = t::read_response_headers(fd, buffer);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(head.headers["content-length"], std::to_string(om.size()));
  ASSERT_TRUE(t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n" + accept + "\r\n"));
  EXPECT_EQ(t::read_response(fd, buffer).body, om);
  ::close(fd);
}

TEST(http_server, openmetrics_self_metrics_come_before_eof_as_counter_families) {
  auto cfg = local();
  cfg.self_metrics = true;
  auto snap = t::sample_snapshot();
  prom::http_server server{cfg, [snap] { return snap; }};
  auto r = t::get(server.port(), "/metrics", "Accept: application/openmetrics-text\r\n");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.ends_with("# EOF\n"));
  EXPECT_EQ(r.body.find("# EOF"), r.body.size() - 6); // once, last
  EXPECT_NE(r.body.find("# TYPE metron_http_requests counter\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\nmetron_http_requests_total "), std::string::npos) << r.body;
}

TEST_F(fixture, random_accept_headers_never_break_a_scrape) {
  std::mt19937_64 rng{5};
  for (int i = 0; i < 200; ++i) {
    std::string value;
    for (std::size_t n = rng() % 200; n > 0; --n) {
      char c = static_cast<char>(0x20 + rng() % 0x5f); // printable: what a header value may hold
      value += c;
    }
    if (i % 2 == 0)
      value.insert(rng() % (value.size() + 1), "application/openmetrics-text");
    auto r = t::get(server.port(), "/metrics", "Accept: " + value + "\r\n");
    ASSERT_EQ(r.status, 200) << value;
    bool om = prom::wants_openmetrics(value);
    EXPECT_EQ(r.body, om ? prom::render_openmetrics(*snap) : prom::render_text(*snap)) << value;
  }
}
