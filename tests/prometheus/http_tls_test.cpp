// HTTPS on the endpoint, against an OpenSSL client (Asio ssl) and certificates made by
// the openssl command line: a trusted server answers, an untrusted one is refused by
// the client, plain HTTP on the TLS port is cut and counted, and with a client CA
// only clients holding a certificate it signed get in (mutual TLS).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "metron/prometheus/http_server.hpp"
#include "raw_http.hpp"
#include "server_support.hpp"
#include "tls_files.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

struct tls_result {
  bool handshake = false;
  int status = 0;
  std::string body;
};

// GET path over TLS, trusting ca_file, optionally presenting a client certificate.
tls_result tls_get(std::uint16_t port, const std::string& ca_file, const std::string& path = "/metrics",
                   const std::string& cert = {}, const std::string& key = {}) {
  asio::io_context ioc;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  if (!cert.empty()) {
    ctx.use_certificate_chain_file(cert);
    ctx.use_private_key_file(key, asio::ssl::context::pem);
  }
  asio::ssl::stream<asio::ip::tcp::socket> stream{ioc, ctx};
  tls_result r;
  boost::system::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec)
    return r;
  timeval tv{10, 0}; // no hang: the blocking calls below give up after 10 s
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec)
    return r;
  r.handshake = true;
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(stream, req, ec);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (!ec || ec == asio::ssl::error::stream_truncated) { // the server closes without close_notify
    r.status = res.result_int();
    r.body = res.body();
  }
  // A TLS 1.3 server verifies the client's certificate after the client's handshake
  // returns, so a refused client learns it here: no response.
  return r;
}

struct tls_fixture : ::testing::Test {
  void SetUp() override { ASSERT_TRUE(files.ok()) << files.log(); }
  prom::server_config tls_config() const {
    auto cfg = t::local_config();
    cfg.tls_cert_file = files.server_cert();
    cfg.tls_key_file = files.server_key();
    return cfg;
  }
  t::tls_files files;
  report_ptr snap = t::sample_snapshot();
};

} // namespace

TEST_F(tls_fixture, a_client_trusting_the_ca_is_served_over_tls) {
  prom::http_server server{tls_config(), [&] { return snap; }};
  auto r = tls_get(server.port(), files.ca());
  EXPECT_TRUE(r.handshake);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, prom::render_text(*snap));
  EXPECT_EQ(tls_get(server.port(), files.ca(), "/metrics.json").status, 200);
}

TEST_F(tls_fixture, a_client_trusting_another_ca_refuses_the_server) {
  prom::http_server server{tls_config(), [&] { return snap; }};
  auto r = tls_get(server.port(), files.other_ca());
  EXPECT_FALSE(r.handshake);
  EXPECT_EQ(r.status, 0);
}

TEST_F(tls_fixture, plain_http_on_the_tls_port_is_cut_and_counted) {
  prom::http_server server{tls_config(), [&] { return snap; }};
  int fd = t::connect_local(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(t::closed_by_peer_within(fd, 10s));
  ::close(fd);
  EXPECT_EQ(server.stats().tls_failures, 1u);
  EXPECT_EQ(tls_get(server.port(), files.ca()).status, 200); // unaffected
}

TEST_F(tls_fixture, a_stalled_handshake_is_cut_by_the_header_deadline) {
  auto cfg = tls_config();
  cfg.header_timeout = 200ms;
  prom::http_server server{cfg, [&] { return snap; }};
  int fd = t::connect_local(server.port()); // and never says hello
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(t::closed_by_peer_within(fd, 10s));
  ::close(fd);
  EXPECT_EQ(server.stats().header_timeouts, 1u);
}

TEST_F(tls_fixture, with_a_client_ca_only_clients_with_a_certificate_it_signed_get_in) {
  auto cfg = tls_config();
  cfg.tls_client_ca_file = files.ca();
  prom::http_server server{cfg, [&] { return snap; }};
  EXPECT_EQ(tls_get(server.port(), files.ca()).status, 0);
  auto r = tls_get(server.port(), files.ca(), "/metrics", files.client_cert(), files.client_key());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, prom::render_text(*snap));
  // The server's own certificate is signed by the same CA but is not a client one.
  EXPECT_EQ(tls_get(server.port(), files.ca(), "/metrics", files.server_cert(), files.server_key()).status, 0);
}

TEST_F(tls_fixture, bad_tls_files_are_refused_at_construction) {
  auto cfg = tls_config();
  cfg.tls_key_file = files.dir() / "missing.key";
  EXPECT_THROW((prom::http_server{cfg, [&] { return snap; }}), std::invalid_argument);
  cfg = tls_config();
  cfg.tls_key_file = files.client_key(); // does not match the certificate
  EXPECT_THROW((prom::http_server{cfg, [&] { return snap; }}), std::invalid_argument);
  cfg = t::local_config();
  cfg.tls_client_ca_file = files.ca(); // without a certificate of its own
  EXPECT_THROW((prom::http_server{cfg, [&] { return snap; }}), std::invalid_argument);
}

TEST_F(tls_fixture, two_io_threads_serve_concurrent_tls_clients) {
  auto cfg = tls_config();
  cfg.threads = 2;
  prom::http_server server{cfg, [&] { return snap; }};
  auto expected = prom::render_text(*snap);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        auto r = tls_get(server.port(), files.ca());
        ok.fetch_add(r.status == 200 && r.body == expected);
      }
    });
  for (auto& c : clients)
    c.join();
  EXPECT_EQ(ok.load(), 24);
  EXPECT_EQ(server.stats().tls_failures, 0u);
}
