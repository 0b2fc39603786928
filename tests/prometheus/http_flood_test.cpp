// Issue 11's two connection attacks, on loopback, against the default configuration:
// an attacker on 127.0.0.2 holds 512 connections that each send one header byte per
// second (slowloris), or 2,000 idle connections that reconnect as soon as they are
// closed; meanwhile a scraper on 127.0.0.1 makes 91 scrapes, each on a new connection,
// one every 100 ms. At least 90% of them must be answered 200 within 1 s (before the
// per-address cap, the header deadline and the batched accept: 4 of 91 and 0 of 91).
//
// Also: out of file descriptors, the accept loop pauses instead of spinning.
//
// A timed test by nature: it measures what the issue measures. Not registered in the
// ThreadSanitizer build (whose slowdown says nothing about these bounds; the server's
// threads are checked under TSan by http_server_test and http_limits_test). Bounded:
// each attack runs only while its 91 scrapes do (~10 s), the attacker's sockets are
// non-blocking and polled, every scrape socket has 2 s timeouts.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "metron/prometheus/http_server.hpp"
#include "raw_http.hpp"
#include "server_support.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* attacker_address = "127.0.0.2";

// One thread, n non-blocking sockets from 127.0.0.2; a socket the server closes or
// resets is reopened at once. With trickle, each open socket sends one more byte of a
// request header that never ends, once a second.
class attacker {
public:
  attacker(std::uint16_t port, std::size_t n, bool trickle)
    : port_(port), fds_(n, -1), sent_(n, 0), trickle_(trickle), thread_([this] { run(); }) {}
  ~attacker() {
    stop_.store(true);
    thread_.join();
    for (int fd : fds_)
      if (fd >= 0)
        ::close(fd);
  }
  /// Ready once all n connections were opened the first time.
  std::future<void> ready() { return ready_.get_future(); }
  std::uint64_t connects() const { return connects_.load(); }

private:
  void open(std::size_t i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
      return;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, attacker_address, &src.sin_addr);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port_);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
        (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)) {
      ::close(fd);
      return;
    }
    fds_[i] = fd;
    sent_[i] = 0;
    connects_.fetch_add(1);
  }

  void drop(std::size_t i) {
    ::close(fds_[i]);
    fds_[i] = -1;
  }

  void run() {
    static const std::string header = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Slow: " + std::string(4096, 'a');
    bool announced = false;
    auto next_trickle = clock_type::now();
    std::vector<pollfd> polled;
    while (!stop_.load()) {
      for (std::size_t i = 0; i < fds_.size(); ++i)
        if (fds_[i] < 0)
          open(i);
      if (!announced) {
        announced = true;
        ready_.set_value();
      }
      if (trickle_ && clock_type::now() >= next_trickle) {
        next_trickle += 1s;
        for (std::size_t i = 0; i < fds_.size(); ++i) {
          if (fds_[i] < 0 || sent_[i] >= header.size())
            continue;
          auto n = ::send(fds_[i], header.data() + sent_[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n == 1)
            ++sent_[i];
          else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)
            drop(i);
        }
      }
      polled.clear();
      for (int fd : fds_)
        polled.push_back({fd, POLLIN, 0}); // fd -1 is ignored by poll
      if (::poll(polled.data(), polled.size(), 50) <= 0)
        continue;
      for (std::size_t i = 0; i < polled.size(); ++i) {
        if (fds_[i] < 0 || !(polled[i].revents & (POLLIN | POLLHUP | POLLERR)))
          continue;
        char buf[512];
        auto n = ::recv(fds_[i], buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
          drop(i); // closed or reset by the server: come back at once
      }
    }
  }

  std::uint16_t port_;
  std::vector<int> fds_;
  std::vector<std::size_t> sent_;
  bool trickle_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> connects_{0};
  std::promise<void> ready_;
  std::thread thread_;
};

struct scrape_figures {
  int served = 0; // 200 within 1 s
  int total = 0;
  std::chrono::milliseconds worst{0};
};

// 91 scrapes from 127.0.0.1, one every 100 ms, each on a new connection.
scrape_figures scrape(std::uint16_t port, const std::string& expected) {
  scrape_figures f;
  auto next = clock_type::now();
  for (int i = 0; i < 91; ++i) {
    std::this_thread::sleep_until(next); // the scraper's own pace, not a wait for the server
    next += 100ms;
    auto start = clock_type::now();
    int fd = t::connect_local(port, 2);
    t::http_response r;
    std::string buffer;
    if (fd >= 0) {
      if (t::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        r = t::read_response(fd, buffer);
      ::close(fd);
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
    f.worst = std::max(f.worst, took);
    ++f.total;
    if (r.status == 200 && r.body == expected && took <= 1s)
      ++f.served;
  }
  return f;
}

void raise_fd_limit(rlim_t want) {
  rlimit l{};
  ::getrlimit(RLIMIT_NOFILE, &l);
  if (l.rlim_cur < want) {
    l.rlim_cur = std::min(want, l.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &l);
  }
}

void run_attack(std::size_t connections, bool trickle, const char* what) {
  raise_fd_limit(connections + 1024);
  auto snap = t::sample_snapshot();
  prom::server_config cfg = t::local_config(); // the defaults, but a free port
  prom::http_server server{cfg, [&] { return snap; }};
  auto expected = prom::render_text(*snap);
  attacker a{server.port(), connections, trickle};
  a.ready().wait();
  auto f = scrape(server.port(), expected);
  auto s = server.stats();
  std::printf("%s: %d of %d scrapes served within 1 s (slowest %lld ms); attacker connects %llu, refused "
              "address_cap %llu, total_cap %llu, header timeouts %llu\n",
              what, f.served, f.total, static_cast<long long>(f.worst.count()),
              static_cast<unsigned long long>(a.connects()), static_cast<unsigned long long>(s.refused_address_cap),
              static_cast<unsigned long long>(s.refused_total_cap), static_cast<unsigned long long>(s.header_timeouts));
  EXPECT_GE(f.served * 10, f.total * 9) << what << ": " << f.served << " of " << f.total;
  // The attack really was refused by the per-address cap, not simply absent.
  EXPECT_GT(s.refused_address_cap, 0u) << what;
  EXPECT_GE(a.connects(), connections) << what;
}

} // namespace

TEST(http_flood, slowloris_from_one_address_leaves_scrapes_from_another_served) {
  run_attack(512, true, "slowloris, 512 connections, a header byte per second");
}

TEST(http_flood, reconnecting_idle_connections_leave_scrapes_from_another_served) {
  run_attack(2000, false, "2,000 reconnecting idle connections");
}

TEST(http_flood, out_of_file_descriptors_the_server_pauses_instead_of_spinning_and_recovers) {
  auto snap = t::sample_snapshot();
  prom::http_server server{t::local_config(), [&] { return snap; }};
  ASSERT_EQ(t::get(server.port(), "/metrics").status, 200);
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  // Fill the descriptor table up to a lowered limit, then free exactly one slot for
  // the client's socket: the server's accept of it fails with EMFILE.
  int probe = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(probe, 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe) + 16;
  ::close(probe);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;)
    filler.push_back(fd);
  ::close(filler.back());
  filler.pop_back();
  int client = t::connect_local(server.port());
  ASSERT_GE(client, 0);
  // A second of being unable to accept: measured, the CPU the process spends.
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(1s); // the span measured, not a wait for an event
  ::getrusage(RUSAGE_SELF, &after);
  auto cpu_ms = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  double spent = cpu_ms(after) - cpu_ms(before);
  auto errors = server.stats().accept_errors;
  for (int fd : filler)
    ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  std::printf("out of descriptors for 1 s: %llu failed accepts, %.0f ms of CPU\n",
              static_cast<unsigned long long>(errors), spent);
  EXPECT_GT(errors, 0u);
  EXPECT_LT(spent, 150) << "the accept loop spins on EMFILE"; // spinning measured 460 ms here
  // Descriptors free again: the queued connection is accepted and served.
  std::string buffer;
  ASSERT_TRUE(t::send_all(client, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(t::read_response(client, buffer).status, 200);
  ::close(client);
}
