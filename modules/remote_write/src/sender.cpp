// The sender's thread: takes the oldest request, POSTs it over one keep-alive
// connection (Boost.Beast client, one private io_context driven step by step, each
// step bounded by the stream's expiry), and decides by the outcome (sender.hpp) to
// drop it, keep it, or wait out a backoff and try again.
#include "metron/remote_write/sender.hpp"

#include <optional>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "metron/registry.hpp"

namespace metron::remote_write {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, double jitter) noexcept {
  auto d = min;
  for (unsigned i = 1; i < attempt && d < max; ++i)
    d *= 2;
  d = std::min(d, max);
  jitter = std::clamp(jitter, 0.5, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(static_cast<double>(d.count()) * jitter)};
}

namespace {

constexpr std::size_t max_response_header = 8 * 1024;

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// http://host[:port][/target]; host a name or an IPv4 address; target printable
// ASCII without spaces (it goes into the request line verbatim).
auto parse_url(const std::string& url) {
  struct parts {
    std::string host, port, target;
  } p;
  auto bad = [&url](const char* why) {
    return std::invalid_argument("remote_write::config::url: " + std::string{why} + " in " +
                                 detail::quoted(url, 200) + " (expected http://host[:port]/path)");
  };
  const std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    throw bad("not http://");
  std::string_view rest{url};
  rest.remove_prefix(scheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view{"/"} : rest.substr(slash);
  auto colon = authority.find(':');
  std::string_view host = authority.substr(0, colon);
  std::string_view port = colon == std::string_view::npos ? std::string_view{"80"} : authority.substr(colon + 1);
  if (host.empty() || !std::all_of(host.begin(), host.end(), host_char))
    throw bad("a bad host");
  unsigned n = 0;
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (n = static_cast<unsigned>(std::stoul(std::string{port}))) == 0 || n > 65535)
    throw bad("a bad port");
  if (!std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    throw bad("a bad path");
  p.host = host;
  p.port = port;
  p.target = target;
  return p;
}

} // namespace

// -- the connection (the sender's thread only, except ioc.stop() from stop()) --------

class sender::connection {
public:
  asio::io_context ioc;

  bool is_open() const { return stream_ && stream_->socket().is_open(); }

  /// Connected (reusing the open connection) within `limit`.
  bool ensure(const url_parts& u, std::chrono::milliseconds limit, const sender& owner) {
    if (is_open())
      return true;
    close();
    stream_.emplace(ioc);
    buffer_.clear();
    beast::error_code ec = asio::error::timed_out;
    boost::system::error_code not_ip;
    auto addr = asio::ip::make_address(u.host, not_ip);
    stream_->expires_after(limit);
    if (!not_ip) {
      stream_->async_connect(tcp::endpoint{addr, static_cast<unsigned short>(std::stoul(u.port))},
                             [&ec](beast::error_code e) { ec = e; });
      if (!step(owner))
        return false;
    } else {
      tcp::resolver resolver{ioc};
      tcp::resolver::results_type found;
      resolver.async_resolve(u.host, u.port, [&](beast::error_code e, tcp::resolver::results_type r) {
        ec = e;
        found = std::move(r);
      });
      ioc.restart();
      if (owner.stopping() || ioc.run_for(limit) == 0 || ec) {
        resolver.cancel();
        ioc.restart();
        ioc.run();
        close();
        return false;
      }
      ec = asio::error::timed_out;
      stream_->async_connect(found, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
      if (!step(owner))
        return false;
    }
    if (ec)
      close();
    return !ec;
  }

  /// The status of the response to req, or 0 (connection closed) on any failure.
  template <class Request>
  unsigned exchange(Request& req, std::chrono::milliseconds limit, std::size_t body_limit, const sender& owner) {
    beast::error_code ec = asio::error::timed_out;
    stream_->expires_after(limit); // one deadline for the write and the whole response
    http::async_write(*stream_, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    if (!step(owner) || ec) {
      close();
      return 0;
    }
    http::response_parser<http::string_body> parser;
    parser.header_limit(max_response_header);
    parser.body_limit(body_limit);
    ec = asio::error::timed_out;
    http::async_read(*stream_, buffer_, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    if (!step(owner) || ec) {
      close();
      return 0;
    }
    unsigned status = parser.get().result_int();
    // Bytes after the response were never asked for: the stream is not trusted further.
    if (!parser.get().keep_alive() || buffer_.size() != 0)
      close();
    return status;
  }

  void close() {
    if (stream_) {
      beast::error_code ignored;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_->close();
      stream_.reset();
    }
    buffer_.clear();
  }

private:
  // Runs the io_context until the pending operation completes (the stream's expiry
  // bounds it); false if the sender is stopping.
  bool step(const sender& owner) {
    if (owner.stopping())
      return false;
    ioc.restart();
    ioc.run();
    return !owner.stopping();
  }

  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_{max_response_header + (1u << 16)};
};

// -- the sender -------------------------------------------------------------------------

sender::sender(const config& cfg) : cfg_(cfg) {
  auto p = parse_url(cfg_.url);
  url_ = {p.host, p.port, p.target};
  if (cfg_.queue_capacity == 0)
    throw std::invalid_argument("remote_write::config::queue_capacity must be positive");
  if (cfg_.min_backoff.count() <= 0 || cfg_.max_backoff < cfg_.min_backoff)
    throw std::invalid_argument("remote_write::config: need 0 < min_backoff <= max_backoff");
  if (cfg_.connect_timeout.count() <= 0 || cfg_.request_timeout.count() <= 0)
    throw std::invalid_argument("remote_write::config: connect_timeout and request_timeout must be positive");
  registry* reg = cfg_.metrics;
  if (!reg) {
    own_metrics_ = std::make_unique<registry>();
    reg = own_metrics_.get();
  }
  enqueued_ = &reg->counter("metron_remote_write_enqueued_batches_total", {}, "Remote-write requests queued.");
  batches_ = &reg->counter("metron_remote_write_batches_total", {}, "Remote-write requests sent.");
  samples_ = &reg->counter("metron_remote_write_samples_total", {}, "Samples sent by remote write.");
  bytes_ = &reg->counter("metron_remote_write_bytes_total", {}, "Remote-write request bytes sent (compressed).");
  failed_ = &reg->counter("metron_remote_write_failed_attempts_total", {}, "Remote-write attempts that failed.");
  retries_ = &reg->counter("metron_remote_write_retries_total", {}, "Remote-write attempts after the first.");
  const char* dropped_help = "Remote-write requests dropped, by reason.";
  dropped_full_ = &reg->counter("metron_remote_write_dropped_batches_total", {{"reason", "queue_full"}}, dropped_help);
  dropped_rejected_ = &reg->counter("metron_remote_write_dropped_batches_total", {{"reason", "rejected"}}, dropped_help);
  dropped_shutdown_ = &reg->counter("metron_remote_write_dropped_batches_total", {{"reason", "shutdown"}}, dropped_help);
  queued_ = &reg->gauge("metron_remote_write_queued_batches", {}, "Remote-write requests waiting to be sent.");
  conn_ = std::make_unique<connection>();
  rng_.seed(std::random_device{}());
  thread_ = std::thread{[this] { run(); }};
}

sender::~sender() {
  stop();
}

void sender::push(encoded_batch b) {
  std::lock_guard guard{mutex_};
  enqueued_->add();
  if (stop_) {
    dropped_shutdown_->add();
    return;
  }
  if (queue_.size() >= cfg_.queue_capacity) {
    queue_.pop_front(); // the oldest: possibly one waiting out its backoff
    dropped_full_->add();
  }
  queue_.push_back({std::move(b), 0});
  queued_->set(static_cast<double>(queue_.size()));
  wake_.notify_all();
}

bool sender::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock{mutex_};
  return idle_.wait_for(lock, limit, [this] { return stop_ || (queue_.empty() && !sending_); }) &&
         queue_.empty() && !sending_;
}

sender_stats sender::stats() const {
  sender_stats s;
  s.enqueued_batches = enqueued_->value();
  s.sent_batches = batches_->value();
  s.sent_samples = samples_->value();
  s.sent_bytes = bytes_->value();
  s.failed_attempts = failed_->value();
  s.retries = retries_->value();
  s.dropped_queue_full = dropped_full_->value();
  s.dropped_rejected = dropped_rejected_->value();
  s.dropped_shutdown = dropped_shutdown_->value();
  std::lock_guard guard{mutex_};
  s.queued = queue_.size();
  return s;
}

void sender::stop() noexcept {
  std::lock_guard one_at_a_time{stop_mutex_};
  {
    std::lock_guard guard{mutex_};
    stop_ = true;
    wake_.notify_all();
    idle_.notify_all();
  }
  conn_->ioc.stop(); // ends a pending network step now (io_context::stop is thread-safe)
  if (thread_.joinable())
    thread_.join();
  std::lock_guard guard{mutex_};
  dropped_shutdown_->add(queue_.size());
  queue_.clear();
  queued_->set(0);
}

bool sender::stopping() const {
  std::lock_guard guard{mutex_};
  return stop_;
}

sender::outcome sender::attempt(const encoded_batch& b) {
  // A kept-alive connection the receiver has closed meanwhile fails without an answer;
  // that is not the receiver failing, so it is tried once more on a new connection.
  const bool reused = conn_->is_open();
  if (!conn_->ensure(url_, cfg_.connect_timeout, *this))
    return outcome::retry;
  http::request<http::span_body<const char>> req{http::verb::post, url_.target, 11};
  req.set(http::field::host, url_.port == "80" ? url_.host : url_.host + ":" + url_.port);
  req.set(http::field::user_agent, cfg_.user_agent);
  req.set(http::field::content_type, "application/x-protobuf");
  req.set(http::field::content_encoding, "snappy");
  req.set("X-Prometheus-Remote-Write-Version", "0.1.0");
  req.keep_alive(true);
  req.body() = {b.body.data(), b.body.size()};
  req.prepare_payload();
  unsigned status = conn_->exchange(req, cfg_.request_timeout, cfg_.max_response_bytes, *this);
  if (status == 0 && reused && !stopping() && conn_->ensure(url_, cfg_.connect_timeout, *this))
    status = conn_->exchange(req, cfg_.request_timeout, cfg_.max_response_bytes, *this);
  if (status >= 200 && status < 300)
    return outcome::sent;
  if (status >= 400 && status < 500 && status != 429)
    return outcome::rejected;
  if (status != 0 && (status < 500 || status > 599) && status != 429)
    conn_->close(); // 1xx, 3xx, nonsense: not a state to keep the connection in
  return outcome::retry;
}

void sender::run() {
  std::unique_lock lock{mutex_};
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_)
      break;
    // Out of the queue while on the wire: pushes meanwhile drop among the others.
    queued_request q = std::move(queue_.front());
    queue_.pop_front();
    queued_->set(static_cast<double>(queue_.size()));
    if (q.failures > 0)
      retries_->add();
    sending_ = true;
    lock.unlock();
    outcome o = attempt(q.batch);
    lock.lock();
    sending_ = false;
    if (o == outcome::sent) {
      batches_->add();
      samples_->add(q.batch.samples);
      bytes_->add(q.batch.body.size());
    } else if (stop_) { // the attempt may have been cut short by stop()
      dropped_shutdown_->add();
    } else {
      failed_->add();
      if (o == outcome::rejected) {
        dropped_rejected_->add();
      } else {
        // Back at the front, to wait out the backoff where it is the oldest: a push
        // into a full queue meanwhile drops it first. Dropped now if there is no room.
        double jitter = std::uniform_real_distribution<double>{0.5, 1.0}(rng_);
        auto delay = backoff_delay(++q.failures, cfg_.min_backoff, cfg_.max_backoff, jitter);
        if (queue_.size() >= cfg_.queue_capacity) {
          dropped_full_->add();
        } else {
          queue_.push_front(std::move(q));
          queued_->set(static_cast<double>(queue_.size()));
        }
        wake_.wait_for(lock, delay, [this] { return stop_; });
      }
    }
    if (queue_.empty())
      idle_.notify_all();
  }
  idle_.notify_all();
}

} // namespace metron::remote_write
