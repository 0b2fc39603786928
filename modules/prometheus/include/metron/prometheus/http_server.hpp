// metron/prometheus/http_server.hpp — the HTTP endpoint: GET /metrics and /metrics.json.
//
// A small Boost.Beast server on its own io_context and thread(s). Each scrape asks a
// report *source* for the latest report (the exporter's source hands back the
// report_ptr it last received from the monitor; tests pass a lambda) and renders it;
// a scrape never touches live metrics. The rendered text is cached per report, so
// concurrent scrapes of one report render it once.
//
// Requests:  GET or HEAD /metrics       -> 200, text exposition 0.0.4 (text_format.hpp);
//                                          OpenMetrics 1.0 with exemplars and "# EOF"
//                                          when the Accept header asks for
//                                          application/openmetrics-text (version 1.0.0,
//                                          wants_openmetrics()), as Prometheus does
//            GET or HEAD /metrics.json  -> 200, application/json (metron/json.hpp)
//            with an event_feed (the exporter passes one; docs/dashboard.md):
//            GET or HEAD /, /dashboard.css, /dashboard.js -> the live dashboard page,
//            compiled into the binary
//            GET /events -> a Server-Sent Events stream (see "Event streams" below);
//            beyond max_dashboard_connections open streams -> 503
//            (HEAD: the same status and headers, Content-Length included, no body)
//            other paths        -> 404;   other methods -> 405 (Allow: GET, HEAD)
//            a malformed request line or header -> 400, connection closed
//            a request larger than max_request_bytes -> 413, connection closed
//            basic auth configured, credentials missing or wrong -> 401
//            Expect: 100-continue -> 100 Continue, then the body is read, when the
//            request would succeed; otherwise the final status at once and the
//            connection closed; any other Expect -> 417, connection closed
//            the source throws  -> 500; no report yet (nullptr) -> an empty exposition
// The target may be origin-form (/metrics) or absolute-form (http://host/metrics); a
// query string is ignored. Keep-alive is honoured (Prometheus reuses connections).
//
// Hostile clients (docs/http-security.md): a connection from an address outside the
// allowlist, beyond max_connections, or beyond max_connections_per_address is reset
// on accept, and counted (stats()). Each request's headers (and, for a new connection,
// its TLS handshake) must arrive within header_timeout of the first byte (of accept);
// a keep-alive connection may idle for read_timeout between requests, which is also
// the limit for a request body; each response must be taken within write_timeout. So
// a slow or stuck client holds one socket, within its address's share, for a bounded
// time and no thread. The accept loop drains the listen queue in batches and refuses
// in O(1), so a flood of connections cannot keep another address's out; when accept
// fails (out of file descriptors) it pauses 50 ms instead of spinning.
//
// Event streams (GET /events): once the request is parsed, the connection leaves the
// request deadlines behind (it is meant to stay open) and the server asks the event
// feed for a producer, handing it an event_channel; the feed's handle is released
// when the connection closes (the exporter's releases unsubscribe the connection's
// subscriber actor). Frames queue in the channel up to max_dashboard_queued_bytes
// (one frame is always accepted into an empty queue); a frame that does not fit is
// dropped and counted, so a slow or vanished browser costs at most that much memory
// and never slows the producer. Each frame must be written within write_timeout, else
// the connection is closed (write_timeouts). Bytes from the client after its request,
// or its close, end the stream.
//
// Lifetime: the constructor binds and listens (throws std::system_error if the address
// cannot be bound, std::invalid_argument for a bad allowlist entry or TLS file) and
// starts serving; port() is the bound port (the chosen one for port 0). stop()
// (idempotent, also run by the destructor) closes the listener, stops the io threads
// and joins them; open connections are closed, in-flight responses cut.
//
// Concurrency: port(), address(), requests(), stats() and stop() are thread-safe. The
// source is called from the server's io thread(s), concurrently if threads > 1; it
// must be thread-safe and fast (return a pointer, not build a report).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "metron/prometheus/text_format.hpp"
#include "metron/report.hpp"

namespace metron::prometheus {

struct server_config {
  /// Listen address: a numeric IPv4 or IPv6 address.
  std::string address = "127.0.0.1";
  /// Listen port; 0 picks a free port (see http_server::port()).
  std::uint16_t port = 9464;
  /// Time for a new connection's TLS handshake and first request header, and for
  /// any later request's header from its first byte.
  std::chrono::milliseconds header_timeout{5'000};
  /// Keep-alive idle limit between requests, and the time for a request body.
  std::chrono::milliseconds read_timeout{10'000};
  /// Time for one response to be written.
  std::chrono::milliseconds write_timeout{10'000};
  /// Largest request (request line, headers and body).
  std::size_t max_request_bytes = 16 * 1024;
  /// Most connections open at once.
  std::size_t max_connections = 512;
  /// Most connections open at once from one client address (an IPv6 client: from
  /// its /64); 0: no per-address limit.
  std::size_t max_connections_per_address = 64;
  /// Client addresses allowed to connect: "127.0.0.1", "10.0.0.0/8", "::1",
  /// "fd00::/8" (an IPv4 entry also matches its IPv4-mapped IPv6 form). Empty: any.
  std::vector<std::string> allow{};
  /// Basic auth: when user is non-empty, every request needs these credentials
  /// (only a SHA-256 of "user:password" is kept, compared in constant time).
  std::string basic_auth_user{};
  std::string basic_auth_password{};
  /// TLS: when cert_file is non-empty the server speaks only HTTPS (TLS 1.2+), with
  /// this PEM certificate chain and PEM private key.
  std::string tls_cert_file{};
  std::string tls_key_file{};
  /// When non-empty (and TLS is on), clients must present a certificate signed by a
  /// CA in this PEM file (mutual TLS).
  std::string tls_client_ca_file{};
  /// Append the server's own counters (stats()) to /metrics as metron_http_*
  /// families (docs/http-security.md); off keeps /metrics exactly the snapshot.
  bool self_metrics = false;
  /// io threads.
  int threads = 1;
  /// Rendering of /metrics.
  text_options text{};
  /// Serve the dashboard (/, its assets and /events) when the server has an event feed.
  bool dashboard = true;
  /// Most /events streams open at once (each also counts as a connection); more -> 503.
  std::size_t max_dashboard_connections = 8;
  /// Bytes queued per /events stream before frames are dropped (and counted).
  std::size_t max_dashboard_queued_bytes = 1 << 20;
};

/// What the server refused or cut, since it started (docs/http-security.md).
struct server_stats {
  std::uint64_t requests = 0;             ///< responses written, any status
  std::uint64_t accepted = 0;             ///< connections admitted
  std::uint64_t refused_not_allowed = 0;  ///< reset on accept: address not in allow
  std::uint64_t refused_total_cap = 0;    ///< reset on accept: max_connections open
  std::uint64_t refused_address_cap = 0;  ///< reset on accept: max_connections_per_address
  std::uint64_t header_timeouts = 0;      ///< closed: handshake or header not in time
  std::uint64_t read_timeouts = 0;        ///< closed: idle keep-alive or body not in time
  std::uint64_t write_timeouts = 0;       ///< closed: response not taken in time
  std::uint64_t tls_failures = 0;         ///< closed: TLS handshake failed
  std::uint64_t auth_failures = 0;        ///< answered 401
  std::uint64_t bad_requests = 0;         ///< answered 400 (malformed) or 417
  std::uint64_t too_large = 0;            ///< answered 413
  std::uint64_t accept_errors = 0;        ///< accept failed (e.g. EMFILE); retried after 50 ms
  std::uint64_t streams_opened = 0;       ///< /events streams started
  std::uint64_t streams_open = 0;         ///< /events streams open now (a gauge)
  std::uint64_t refused_stream_cap = 0;   ///< answered 503: max_dashboard_connections open
  std::uint64_t stream_frames = 0;        ///< frames written to /events streams
  std::uint64_t stream_bytes = 0;         ///< bytes of those frames
  std::uint64_t stream_frames_dropped = 0; ///< frames dropped: a stream's queue was full
};

/// Returns the report to serve, or nullptr when there is none yet.
using report_source = std::function<report_ptr()>;

/// One /events connection as its producer sees it. Thread-safe; it may outlive the
/// connection (push() then refuses).
class event_channel {
public:
  virtual ~event_channel() = default;
  /// Queues one complete Server-Sent Events frame ("event: x\ndata: ...\n\n"). `written`
  /// runs once, on an io thread, when the frame has been written; or at once, on the
  /// caller's thread, when the frame is refused (queue full: counted; or the connection
  /// closed). Returns false when refused.
  virtual bool push(std::shared_ptr<const std::string> frame, std::function<void()> written) = 0;
};

/// Starts the producer of a new /events connection (called on an io thread; keep it
/// short). The returned handle is released when the connection closes.
using event_feed = std::function<std::shared_ptr<void>(std::shared_ptr<event_channel>)>;

class http_server {
public:
  /// Binds, listens and starts serving (see the file comment). Without an event feed
  /// (or with cfg.dashboard off) there is no dashboard: / and /events are 404.
  http_server(server_config cfg, report_source source, event_feed events = {});
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port.
  std::uint16_t port() const noexcept;
  /// The listen address as configured.
  const std::string& address() const noexcept;
  /// Requests answered so far (any status).
  std::uint64_t requests() const noexcept;
  /// The refusal and timeout counters (each a relaxed read: a consistent total of
  /// each counter, not a snapshot across them).
  server_stats stats() const noexcept;

  /// Stops serving and joins the io threads; idempotent.
  void stop() noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace metron::prometheus
