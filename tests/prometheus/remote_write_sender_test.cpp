// The remote-write sender against a tiny scripted HTTP server in the test: the
// headers it sends, 4xx dropped at once, 5xx/429 retried, the queue bound with the
// oldest dropped, shutdown accounting, and hostile responses (random bytes,
// truncation, huge headers and bodies, silence) that must only be failed attempts.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "metron/remote_write/sender.hpp"
#include "prometheus_process.hpp" // free_port
#include "raw_http.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace rw = metron::remote_write;
namespace t = metron::test;

namespace {

struct received {
  std::string head; // request line and headers
  std::string body;
};

// One connection at a time on 127.0.0.1. For request number n (from 0), answer(n)
// gives the bytes to send back and whether to close the connection after them.
class script_server {
public:
  struct reply {
    std::string bytes;
    bool close = false;
  };
  explicit script_server(std::function<reply(std::size_t)> answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 4);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread{[this] { serve(); }};
  }
  ~script_server() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR); // wakes accept
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write"; }
  std::vector<received> requests() const {
    std::lock_guard g{mutex_};
    return requests_;
  }

private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0)
        return;
      timeval tv{0, 200'000}; // a read gives up after 200 ms, so stop_ is seen
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      handle(c);
      ::close(c);
    }
  }
  void handle(int c) {
    std::string in;
    char buf[65536];
    while (!stop_) {
      auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < end)
          length = std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + length) {
          received r{in.substr(0, end + 4), in.substr(end + 4, length)};
          in.erase(0, end + 4 + length);
          std::size_t n;
          {
            std::lock_guard g{mutex_};
            requests_.push_back(std::move(r));
            n = requests_.size() - 1;
          }
          reply rep = answer_(n);
          t::send_all(c, rep.bytes);
          if (rep.close)
            return;
          continue;
        }
      }
      auto got = ::recv(c, buf, sizeof buf, 0);
      if (got == 0)
        return;
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          continue;
        return;
      }
      in.append(buf, static_cast<std::size_t>(got));
    }
  }

  std::function<reply(std::size_t)> answer_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<received> requests_;
  std::thread thread_;
};

script_server::reply status(int code) {
  return {"HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: 0\r\n\r\n", false};
}

rw::encoded_batch batch(std::string body, std::size_t samples = 1) {
  rw::encoded_batch b;
  b.body = std::move(body);
  b.samples = samples;
  return b;
}

rw::config fast(std::string url) {
  rw::config cfg;
  cfg.url = std::move(url);
  cfg.min_backoff = 1ms;
  cfg.max_backoff = 4ms;
  cfg.connect_timeout = 2s;
  cfg.request_timeout = 2s;
  return cfg;
}

} // namespace

TEST(remote_write_sender, a_request_carries_the_remote_write_headers_and_the_body) {
  script_server srv{[](std::size_t) { return status(204); }};
  auto cfg = fast(srv.url());
  cfg.user_agent = "metron-test/1";
  rw::sender s{cfg};
  s.push(batch("payload-1", 7));
  ASSERT_TRUE(s.wait_idle(30s));
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto& h = reqs[0].head;
  EXPECT_EQ(h.rfind("POST /api/v1/write HTTP/1.1\r\n", 0), 0u) << h;
  for (const char* line : {"Content-Encoding: snappy\r\n", "Content-Type: application/x-protobuf\r\n",
                           "X-Prometheus-Remote-Write-Version: 0.1.0\r\n", "User-Agent: metron-test/1\r\n"})
    EXPECT_NE(h.find(line), std::string::npos) << line << " missing in\n" << h;
  EXPECT_NE(h.find("Host: 127.0.0.1:" + std::to_string(srv.port()) + "\r\n"), std::string::npos) << h;
  EXPECT_EQ(reqs[0].body, "payload-1");
  auto st = s.stats();
  EXPECT_EQ(st.sent_batches, 1u);
  EXPECT_EQ(st.sent_samples, 7u);
  EXPECT_EQ(st.sent_bytes, 9u);
  EXPECT_EQ(st.failed_attempts, 0u);
}

TEST(remote_write_sender, a_kept_alive_connection_the_receiver_closed_is_replaced_without_a_failed_attempt) {
  // Each answer claims keep-alive, then the server closes the connection.
  script_server srv{[](std::size_t) { return script_server::reply{status(204).bytes, true}; }};
  rw::sender s{fast(srv.url())};
  s.push(batch("first"));
  ASSERT_TRUE(s.wait_idle(30s));
  s.push(batch("second"));
  ASSERT_TRUE(s.wait_idle(30s));
  auto st = s.stats();
  EXPECT_EQ(st.sent_batches, 2u);
  EXPECT_EQ(st.failed_attempts, 0u);
  EXPECT_EQ(srv.requests().size(), 2u);
}

TEST(remote_write_sender, a_400_is_dropped_at_once_not_retried_and_counted) {
  script_server srv{[](std::size_t) { return status(400); }};
  rw::sender s{fast(srv.url())};
  s.push(batch("refused"));
  s.push(batch("refused too"));
  ASSERT_TRUE(s.wait_idle(30s));
  EXPECT_EQ(srv.requests().size(), 2u);
  auto st = s.stats();
  EXPECT_EQ(st.dropped_rejected, 2u);
  EXPECT_EQ(st.failed_attempts, 2u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.sent_batches, 0u);
}

TEST(remote_write_sender, 5xx_and_429_are_retried_with_the_same_body_until_accepted) {
  script_server srv{[](std::size_t n) {
    static const int codes[] = {500, 429, 503, 204};
    return status(codes[std::min<std::size_t>(n, 3)]);
  }};
  rw::sender s{fast(srv.url())};
  s.push(batch("again"));
  ASSERT_TRUE(s.wait_idle(30s));
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (auto& r : reqs)
    EXPECT_EQ(r.body, "again");
  auto st = s.stats();
  EXPECT_EQ(st.sent_batches, 1u);
  EXPECT_EQ(st.failed_attempts, 3u);
  EXPECT_EQ(st.retries, 3u);
  EXPECT_EQ(st.dropped_rejected + st.dropped_queue_full, 0u);
}

TEST(remote_write_sender, an_unreachable_endpoint_keeps_the_queue_bounded_and_counts_every_drop) {
  auto cfg = fast("http://127.0.0.1:" + std::to_string(t::free_port()) + "/api/v1/write");
  cfg.queue_capacity = 4;
  rw::sender s{cfg};
  for (int i = 0; i < 20; ++i)
    s.push(batch(std::to_string(i)));
  auto st = s.stats();
  EXPECT_LE(st.queued, 4u);
  EXPECT_EQ(st.enqueued_batches, 20u);
  // Every batch is queued, in the sender's hands (at most one), or dropped.
  EXPECT_GE(st.dropped_queue_full + st.queued, 19u);
  EXPECT_LE(st.dropped_queue_full + st.queued, 20u);
  s.stop();
  st = s.stats();
  EXPECT_EQ(st.sent_batches, 0u);
  EXPECT_EQ(st.dropped_queue_full + st.dropped_shutdown, 20u);
  EXPECT_EQ(st.queued, 0u);
  s.push(batch("after stop"));
  EXPECT_EQ(s.stats().dropped_shutdown + s.stats().dropped_queue_full, 21u);
}

TEST(remote_write_sender, when_the_queue_overflows_the_oldest_go_and_the_rest_arrive_in_order) {
  std::atomic<bool> open{false};
  script_server srv{[&open](std::size_t) { return status(open ? 204 : 503); }};
  auto cfg = fast(srv.url());
  cfg.queue_capacity = 3;
  rw::sender s{cfg};
  for (int i = 0; i < 10; ++i)
    s.push(batch(std::to_string(i)));
  open = true;
  ASSERT_TRUE(s.wait_idle(30s));
  std::vector<int> delivered;
  std::string last_refused;
  for (auto& r : srv.requests())
    if (delivered.empty() || std::stoi(r.body) != delivered.back())
      delivered.push_back(std::stoi(r.body));
  // The last three pushed were never the oldest; whatever else arrived came first.
  ASSERT_GE(delivered.size(), 3u);
  EXPECT_TRUE(std::is_sorted(delivered.begin(), delivered.end()));
  EXPECT_EQ(std::vector<int>(delivered.end() - 3, delivered.end()), (std::vector<int>{7, 8, 9}));
  auto st = s.stats();
  EXPECT_EQ(st.sent_batches + st.dropped_queue_full, 10u);
  EXPECT_GE(st.sent_batches, 3u);
  EXPECT_LE(st.sent_batches, 4u);
}

TEST(remote_write_sender, hostile_responses_are_failed_attempts_and_never_crash_or_wedge_it) {
  // Answers that cannot be a good response, then random and mutated bytes; every
  // other request is answered 204, so each batch is eventually delivered (or refused
  // by a mutated status in 400..499).
  std::mt19937_64 rng{2026};
  std::mutex rng_mutex;
  // The good answer closes the connection, so every attempt is on a new one (an
  // unanswered request on a reused connection is sent again at once, uncounted).
  const std::string good = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  std::vector<script_server::reply> fixed = {
    {"", true},                                                                 // closed at once
    {"", false},                                                                // silence: a timeout
    {"HTTP/1.1 20", true},                                                      // truncated status
    {"HTTP/1.1 204 OK\r\nContent-Len", true},                                   // truncated header
    {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true},                 // truncated body
    {"HTTP/1.1 200 OK\r\nX: " + std::string(100'000, 'a') + "\r\n\r\n", true}, // huge header
    {"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + std::string(70'000, 'b'), true}, // over body limit
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", true},       // bad chunk size
    {"HTTP/1.1 100 Continue\r\n\r\n", true},                                    // 1xx only
    {"HTTP/1.1 301 Moved\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n", false},
    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", true},                     // a TLS hello
    {"HTTP/1.1 204 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 extra\r\n\r\n", false}, // unasked-for bytes
  };
  const std::size_t known_bad = fixed.size() - 1; // the last one is a 204 with trailing bytes
  script_server srv{[&](std::size_t n) -> script_server::reply {
    if (n % 2 == 1)
      return {good, true};
    std::size_t k = n / 2;
    if (k < fixed.size())
      return fixed[k];
    std::lock_guard g{rng_mutex};
    std::string bytes;
    if (rng() % 2) {
      bytes.resize(rng() % 300);
      for (auto& ch : bytes)
        ch = static_cast<char>(rng());
    } else {
      bytes = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";
      bytes.resize(rng() % (bytes.size() + 1));
      for (int j = rng() % 4; j > 0 && !bytes.empty(); --j)
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    return {bytes, true};
  }};
  auto cfg = fast(srv.url());
  cfg.request_timeout = 300ms; // an answer that never ends is a timeout
  cfg.max_response_bytes = 4096;
  cfg.queue_capacity = 1000;
  rw::sender s{cfg};
  const std::size_t batches = 150;
  for (std::size_t i = 0; i < batches; ++i)
    s.push(batch(std::to_string(i)));
  ASSERT_TRUE(s.wait_idle(120s));
  auto st = s.stats();
  EXPECT_EQ(st.sent_batches + st.dropped_rejected, batches);
  EXPECT_GE(st.failed_attempts, known_bad);
  EXPECT_EQ(st.dropped_queue_full, 0u);
  EXPECT_GE(srv.requests().size(), batches + known_bad);
}

TEST(remote_write_sender, backoff_doubles_from_the_minimum_to_the_cap_scaled_by_jitter) {
  EXPECT_EQ(rw::backoff_delay(1, 100ms, 5s, 1.0), 100ms);
  EXPECT_EQ(rw::backoff_delay(2, 100ms, 5s, 1.0), 200ms);
  EXPECT_EQ(rw::backoff_delay(6, 100ms, 5s, 1.0), 3200ms);
  EXPECT_EQ(rw::backoff_delay(7, 100ms, 5s, 1.0), 5s);
  EXPECT_EQ(rw::backoff_delay(1000, 100ms, 5s, 1.0), 5s);
  EXPECT_EQ(rw::backoff_delay(2, 100ms, 5s, 0.5), 100ms);
  EXPECT_EQ(rw::backoff_delay(2, 100ms, 5s, 0.0), 100ms); // jitter clamped to [0.5, 1]
}

TEST(remote_write_sender, bad_settings_are_refused_with_a_clear_error) {
  for (const char* url : {"", "https://127.0.0.1/api/v1/write", "http://", "http://:80/", "http://h:0/",
                          "http://h:99999/", "http://h:8a/", "http://h/a b", "http://h\r\nX: y/", "ftp://h/"})
    EXPECT_THROW(rw::sender{fast(url)}, std::invalid_argument) << url;
  auto zero = fast("http://127.0.0.1:1/");
  zero.queue_capacity = 0;
  EXPECT_THROW(rw::sender{zero}, std::invalid_argument);
  auto order = fast("http://127.0.0.1:1/");
  order.min_backoff = 10ms;
  order.max_backoff = 5ms;
  EXPECT_THROW(rw::sender{order}, std::invalid_argument);
  EXPECT_NO_THROW(rw::sender{fast("http://localhost/write")});
}
