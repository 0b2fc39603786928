// metron/prometheus/http_server.hpp — the HTTP endpoint: GET /metrics and /metrics.json.
//
// A small Boost.Beast server on its own io_context and thread(s). Each scrape asks a
// snapshot *source* for the latest snapshot (the exporter's source hands back the
// snapshot_ptr it last received from the monitor; tests pass a lambda) and renders it;
// a scrape never touches live metrics. The rendered text is cached per snapshot, so
// concurrent scrapes of one snapshot render it once.
//
// Requests:  GET /metrics       -> 200, text exposition 0.0.4 (text_format.hpp)
//            GET /metrics.json  -> 200, application/json (metron/json.hpp)
//            other paths        -> 404;   other methods -> 405 (Allow: GET)
//            a malformed request line or header -> 400, connection closed
//            a request larger than max_request_bytes -> 413, connection closed
//            the source throws  -> 500; no snapshot yet (nullptr) -> an empty exposition
// A query string is ignored. Keep-alive is honoured (Prometheus reuses connections).
// Each request must arrive within read_timeout (also the keep-alive idle limit) and
// each response be taken within write_timeout, otherwise the connection is closed, so
// a slow or stuck client holds one socket for a bounded time and no thread. At most
// max_connections are open; further ones are closed on accept.
//
// Lifetime: the constructor binds and listens (throws std::system_error if the address
// cannot be bound) and starts serving; port() is the bound port (the chosen one for
// port 0). stop() (idempotent, also run by the destructor) closes the listener, stops
// the io threads and joins them; open connections are closed, in-flight responses cut.
//
// Concurrency: port(), address(), requests() and stop() are thread-safe. The source is
// called from the server's io thread(s), concurrently if threads > 1; it must be
// thread-safe and fast (return a pointer, not build a snapshot).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "metron/prometheus/text_format.hpp"
#include "metron/snapshot.hpp"

namespace metron::prometheus {

struct server_config {
  /// Listen address: a numeric IPv4 or IPv6 address.
  std::string address = "127.0.0.1";
  /// Listen port; 0 picks a free port (see http_server::port()).
  std::uint16_t port = 9464;
  /// Time for one request to arrive, and the keep-alive idle limit.
  std::chrono::milliseconds read_timeout{10'000};
  /// Time for one response to be written.
  std::chrono::milliseconds write_timeout{10'000};
  /// Largest request (request line, headers and body).
  std::size_t max_request_bytes = 16 * 1024;
  /// Most connections open at once.
  std::size_t max_connections = 512;
  /// io threads.
  int threads = 1;
  /// Rendering of /metrics.
  text_options text{};
};

/// Returns the snapshot to serve, or nullptr when there is none yet.
using snapshot_source = std::function<snapshot_ptr()>;

class http_server {
public:
  /// Binds, listens and starts serving (see the file comment).
  http_server(server_config cfg, snapshot_source source);
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port.
  std::uint16_t port() const noexcept;
  /// The listen address as configured.
  const std::string& address() const noexcept;
  /// Requests answered so far (any status).
  std::uint64_t requests() const noexcept;

  /// Stops serving and joins the io threads; idempotent.
  void stop() noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace metron::prometheus
