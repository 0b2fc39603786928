// Raw TCP peers for the attack tests: BASP headers built by hand, real handshakes
// captured from real peers, a hostile server, a frame fuzzer, and the RSS of a process.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"

namespace metron_test {

using bytes = std::vector<char>;

/// A BASP header (32 bytes, network byte order).
inline bytes basp_header(std::uint8_t op, std::uint8_t flags, std::uint32_t len, std::uint64_t data = 0,
                         std::uint64_t src = 0, std::uint64_t dst = 0) {
  bytes h(32, 0);
  auto put = [&](std::size_t at, std::uint64_t x, int n) {
    for (int i = n - 1; i >= 0; --i, x >>= 8)
      h[at + static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
  };
  h[0] = static_cast<char>(op);
  h[3] = static_cast<char>(flags);
  put(4, len, 4);
  put(8, data, 8);
  put(16, src, 8);
  put(24, dst, 8);
  return h;
}

inline bytes operator+(bytes a, const bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A connected loopback socket, or -1.
inline int connect_loopback(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// Writes what the peer takes; stops quietly when it closes.
inline void send_all(int fd, const bytes& b) {
  std::size_t off = 0;
  while (off < b.size()) {
    auto n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += static_cast<std::size_t>(n);
  }
}

/// Connects, writes `b`, closes. Returns false if the connection was refused.
inline bool send_raw(std::uint16_t port, const bytes& b) {
  int fd = connect_loopback(port);
  if (fd < 0)
    return false;
  send_all(fd, b);
  close(fd);
  return true;
}

/// Reads exactly n bytes within `timeout`; nullopt on EOF, error or timeout.
inline std::optional<bytes> read_exactly(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  bytes out;
  auto deadline = clock_type::now() + timeout;
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1)
      return std::nullopt;
    char tmp[4096];
    auto k = ::recv(fd, tmp, std::min(sizeof tmp, n - out.size()), 0);
    if (k <= 0)
      return std::nullopt;
    out.insert(out.end(), tmp, tmp + k);
  }
  return out;
}

/// One BASP frame (header and payload) read from fd.
inline std::optional<bytes> read_frame(int fd, std::chrono::milliseconds timeout) {
  auto hdr = read_exactly(fd, 32, timeout);
  if (!hdr)
    return std::nullopt;
  auto u = [&](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>((*hdr)[i])); };
  std::uint32_t len = (u(4) << 24) | (u(5) << 16) | (u(6) << 8) | u(7);
  auto payload = read_exactly(fd, len, timeout);
  if (!payload)
    return std::nullopt;
  return *hdr + *payload;
}

/// True once the peer has closed `fd` (EOF or reset) within `timeout`; discards data.
inline bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  return eventually([&] {
    char tmp[4096];
    auto n = ::recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }, timeout, 10ms);
}

/// Resident memory of a process, in KiB (VmRSS).
inline long rss_kib(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  std::fclose(f);
  return kib;
}

/// A server on 127.0.0.1 that answers each connection with respond(fd) on its own
/// thread, then closes it. Stops (and joins) in the destructor.
class hostile_server {
public:
  explicit hostile_server(std::function<void(int)> respond) : respond_(std::move(respond)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 64) != 0)
      throw std::runtime_error("hostile_server: bind/listen failed");
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] { run(); }};
  }

  ~hostile_server() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  std::uint16_t port() const { return port_; }
  std::size_t served() const { return served_.load(); }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) != 1)
        continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      respond_(c);
      close(c);
      ++served_;
    }
  }

  std::function<void(int)> respond_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> served_{0};
  std::thread thread_;
};

/// The handshake frame a real CAF client sends first (captured from connect()).
template <class Connect>
bytes capture_client_handshake(Connect connect) {
  bytes frame;
  hostile_server srv{[&](int fd) {
    if (auto f = read_frame(fd, 10s))
      frame = *f;
  }};
  connect(srv.port()); // fails (no server handshake comes): that is fine
  eventually([&] { return srv.served() > 0; }, 10s);
  if (frame.empty())
    throw std::runtime_error("no client handshake captured");
  return frame;
}

/// A captured client handshake claiming another node: its node id (the payload: an
/// atom, a process id, a 20-byte host id) gets process id and host id from `seed`.
inline bytes as_other_node(bytes hello, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  for (std::size_t i = 32 + 8; i < hello.size(); ++i)
    hello[i] = static_cast<char>(rng());
  return hello;
}

/// The handshake frame a real published node sends first.
inline bytes capture_server_handshake(std::uint16_t port) {
  int fd = connect_loopback(port);
  auto f = fd >= 0 ? read_frame(fd, 10s) : std::nullopt;
  if (fd >= 0)
    close(fd);
  if (!f)
    throw std::runtime_error("no server handshake captured");
  return *f;
}

/// Fuzz frames: every operation (the 7 of BASP and two unknown ones) x payload
/// lengths 0, short (1..31) and long (32..4 GiB, only a prefix of it sent) x random
/// header fields and random bodies.
struct frame_fuzzer {
  std::mt19937_64 rng;
  static constexpr std::uint8_t ops[] = {0, 1, 2, 3, 4, 5, 6, 7, 255};

  explicit frame_fuzzer(std::uint64_t seed) : rng(seed) {}

  std::uint64_t maybe_zero(std::uint64_t x) { return rng() % 2 == 0 ? 0 : x; }

  bytes frame(std::uint8_t op, int length_class) {
    std::uint32_t len = 0;
    if (length_class == 1)
      len = 1 + static_cast<std::uint32_t>(rng() % 31);
    else if (length_class == 2)
      len = rng() % 2 == 0 ? 32 + static_cast<std::uint32_t>(rng() % 65536)
                           : static_cast<std::uint32_t>(rng() | 0x80000000u);
    auto flags = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : 0);
    auto h = basp_header(op, flags, len, maybe_zero(rng() % 4 == 0 ? rng() : 3), maybe_zero(rng()),
                         maybe_zero(rng() % 2 == 0 ? rng() % 64 : rng()));
    std::size_t body = std::min<std::size_t>(len, 64 * 1024);
    if (rng() % 3 == 0)
      body = body / 2; // a partial frame
    for (std::size_t i = 0; i < body; ++i)
      h.push_back(static_cast<char>(rng()));
    return h;
  }

  bytes random_bytes() {
    bytes b(1 + rng() % 4096);
    for (auto& c : b)
      c = static_cast<char>(rng());
    return b;
  }

  /// Calls send(bytes) for each case: twice every operation x length class, alone and
  /// after `hello` (a real handshake), then 20 random byte strings (half after hello).
  /// Returns the number of cases.
  template <class Send>
  std::size_t run(const bytes& hello, Send send) {
    std::size_t cases = 0;
    for (int round = 0; round < 2; ++round)
      for (auto op : ops)
        for (int len = 0; len < 3; ++len)
          for (bool greeted : {false, true}) {
            auto f = frame(op, len);
            send(greeted ? hello + f : f);
            ++cases;
          }
    for (int i = 0; i < 20; ++i, ++cases)
      send((i % 2 ? hello : bytes{}) + random_bytes());
    return cases;
  }
};

} // namespace metron_test
