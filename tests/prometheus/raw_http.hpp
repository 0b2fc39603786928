// A raw-socket HTTP/1.1 client for the tests (no library: the tests see exactly the
// bytes on the wire). Every socket has receive/send timeouts, so no test can hang.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace metron::test {

struct http_response {
  int status = 0; // 0: no (complete) status line received
  std::map<std::string, std::string> headers; // keys lower-case
  std::string body;
  std::string raw;
};

/// A connected socket to 127.0.0.1:port, or -1; from the loopback address `from`
/// (any of 127.0.0.0/8, e.g. "127.0.0.2" to play another client) when given.
inline int connect_local(std::uint16_t port, int timeout_s = 10, const char* from = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (from) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &src.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sends all of data; false on error (e.g. the peer closed).
inline bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

/// Parses one response from raw; returns bytes consumed, 0 if incomplete. With
/// with_body false only the head is parsed (HEAD and 1xx responses have no body
/// whatever Content-Length says).
inline std::size_t parse_response(const std::string& raw, http_response& r, bool with_body = true) {
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos)
    return 0;
  r = {};
  r.status = std::stoi(raw.substr(9, 3));
  std::size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    auto eol = raw.find("\r\n", pos);
    auto colon = raw.find(':', pos);
    std::string k = raw.substr(pos, colon - pos);
    for (auto& c : k)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto v = raw.substr(colon + 1, eol - colon - 1);
    v.erase(0, v.find_first_not_of(' '));
    r.headers[k] = v;
    pos = eol + 2;
  }
  std::size_t len = with_body && r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  if (raw.size() < end + 4 + len)
    return 0;
  r.body = raw.substr(end + 4, len);
  r.raw = raw.substr(0, end + 4 + len);
  return end + 4 + len;
}

/// Reads one complete response from fd (buffer keeps bytes of later ones); with
/// with_body false, only its head.
inline http_response read_response(int fd, std::string& buffer, bool with_body = true) {
  http_response r;
  for (;;) {
    if (auto used = parse_response(buffer, r, with_body)) {
      buffer.erase(0, used);
      return r;
    }
    char chunk[65536];
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0)
      return http_response{}; // closed, reset or timed out before a full response
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

/// One request on a fresh connection (from `from`, see connect_local); status 0 if
/// no full response came back.
inline http_response request(std::uint16_t port, const std::string& raw_request, const char* from = nullptr) {
  int fd = connect_local(port, 10, from);
  if (fd < 0)
    return {};
  http_response r;
  std::string buffer;
  if (send_all(fd, raw_request))
    r = read_response(fd, buffer);
  ::close(fd);
  return r;
}

/// The head of one response (see parse_response).
inline http_response read_response_headers(int fd, std::string& buffer) {
  return read_response(fd, buffer, false);
}

/// GET path with Connection: close (and extra header lines, each ending in \r\n).
inline http_response get(std::uint16_t port, const std::string& path, const std::string& headers = {},
                         const char* from = nullptr) {
  return request(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Connection: close\r\n\r\n",
                 from);
}

/// Standard base64 (for Authorization: Basic).
inline std::string base64(const std::string& in) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size())
      n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size())
      n |= static_cast<unsigned char>(in[i + 2]);
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += i + 1 < in.size() ? digits[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? digits[n & 63] : '=';
  }
  return out;
}

/// True if the peer closes fd (EOF or reset) within timeout; data before is discarded.
inline bool closed_by_peer_within(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
      return true;
  }
}

} // namespace metron::test
