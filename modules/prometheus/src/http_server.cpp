// The Beast server behind http_server.hpp. One accept loop; one session object per
// connection, alive while an operation of it is pending (shared_from_this), each on
// its own strand so threads > 1 is safe. Everything a session needs beyond its socket
// lives in a shared_state held by shared_ptr, so sessions destroyed by the
// io_context's destructor never reach into a half-destroyed server.
//
// A session is a template over its stream: beast::tcp_stream for HTTP, an ssl_stream
// over one for HTTPS; the deadlines are one steady_timer per session either way.
// Admission (allowlist, total and per-address caps) is decided on the accept strand
// before a session exists; a session holds its address's slot until it is destroyed.
//
// An /events stream (the dashboard) is a session that, after its request, writes the
// response head and then whatever frames its stream_channel queues, one async_write at
// a time, while one async_read_some waits for the client to close (or misbehave). The
// channel is the only state shared with the producer's thread: a mutex around a
// bounded deque. It holds a weak_ptr to the session, so a producer that keeps pushing
// after the connection is gone keeps nothing alive.
#include "metron/prometheus/http_server.hpp"

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "access.hpp"
#include "dashboard_assets.hpp"
#include "metron/json.hpp"

namespace metron::prometheus {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;

namespace {

// Connections accepted per accept-handler turn beyond the first: a flood is refused
// in batches instead of one handler turn (behind every session's) per connection.
constexpr int accept_batch = 256;

// The rendered body of the report served last, per format: concurrent scrapes of
// one report render it once.
class render_cache {
public:
  template <class Render>
  std::shared_ptr<const std::string> get(const report_ptr& s, Render render) {
    {
      std::lock_guard guard{mutex_};
      if (s == last_ && text_)
        return text_;
    }
    auto text = std::make_shared<const std::string>(render(*s)); // outside the lock
    std::lock_guard guard{mutex_};
    last_ = s;
    text_ = text;
    return text;
  }

private:
  std::mutex mutex_;
  report_ptr last_;
  std::shared_ptr<const std::string> text_;
};

// The counters behind server_stats, in its field order.
enum class stat : std::size_t {
  requests, accepted, refused_not_allowed, refused_total_cap, refused_address_cap, header_timeouts,
  read_timeouts, write_timeouts, tls_failures, auth_failures, bad_requests, too_large, accept_errors,
  streams_opened, refused_stream_cap, stream_frames, stream_bytes, stream_frames_dropped, count_
};

// The address a connection counts against for max_connections_per_address: IPv4 (also
// when IPv4-mapped), or an IPv6 address's /64 (one host usually holds a whole /64).
asio::ip::address cap_key(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4())
    return a;
  auto bytes = a.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6{bytes};
}

// Open connections, in total and per client address, under one mutex: admission
// checks both caps and takes a slot in one step. A per-address cap of 0 means none.
class admission {
public:
  enum class result { admitted, total_cap, address_cap };

  admission(std::size_t total_cap, std::size_t per_address_cap) : total_cap_(total_cap), per_cap_(per_address_cap) {}

  result try_admit(const asio::ip::address& a) {
    std::lock_guard guard{mutex_};
    if (open_ >= total_cap_)
      return result::total_cap;
    auto& n = per_address_[a];
    if (per_cap_ != 0 && n >= per_cap_) {
      if (n == 0)
        per_address_.erase(a);
      return result::address_cap;
    }
    ++n;
    ++open_;
    return result::admitted;
  }

  void release(const asio::ip::address& a) {
    std::lock_guard guard{mutex_};
    --open_;
    auto it = per_address_.find(a);
    if (it != per_address_.end() && --it->second == 0)
      per_address_.erase(it);
  }

private:
  std::mutex mutex_;
  std::size_t total_cap_, per_cap_;
  std::size_t open_ = 0;
  std::map<asio::ip::address, std::size_t> per_address_;
};

std::optional<asio::ssl::context> make_tls_context(const server_config& cfg) {
  if (cfg.tls_cert_file.empty()) {
    if (!cfg.tls_client_ca_file.empty() || !cfg.tls_key_file.empty())
      throw std::invalid_argument("metron::prometheus: tls_key_file / tls_client_ca_file need tls_cert_file");
    return std::nullopt;
  }
  std::optional<asio::ssl::context> ctx{std::in_place, asio::ssl::context::tls_server};
  const std::string* file = &cfg.tls_cert_file;
  try {
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    ctx->use_certificate_chain_file(cfg.tls_cert_file);
    file = cfg.tls_key_file.empty() ? &cfg.tls_cert_file : &cfg.tls_key_file;
    ctx->use_private_key_file(*file, asio::ssl::context::pem);
    if (!cfg.tls_client_ca_file.empty()) {
      file = &cfg.tls_client_ca_file;
      ctx->load_verify_file(cfg.tls_client_ca_file);
      ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  } catch (const boost::system::system_error& e) {
    throw std::invalid_argument("metron::prometheus: TLS file '" + *file + "': " + e.code().message());
  }
  return ctx;
}

struct shared_state {
  shared_state(server_config c, report_source s, event_feed e)
    : cfg(std::move(c)), source(std::move(s)), feed(cfg.dashboard ? std::move(e) : event_feed{}), allow(cfg.allow), auth(cfg.basic_auth_user, cfg.basic_auth_password),
      tls(make_tls_context(cfg)), slots(cfg.max_connections, cfg.max_connections_per_address) {
    // Only the digest is kept (access.hpp).
    std::fill(cfg.basic_auth_password.begin(), cfg.basic_auth_password.end(), '\0');
    cfg.basic_auth_password.clear();
  }

  void count(stat s, std::uint64_t n = 1) {
    counters[static_cast<std::size_t>(s)].fetch_add(n, std::memory_order_relaxed); // relaxed: a pure count
  }

  // Takes one of max_dashboard_connections stream slots; false when all are taken.
  bool try_open_stream() {
    auto n = streams_open.load(std::memory_order_relaxed); // relaxed: a bounded count, publishes nothing
    do {
      if (n >= cfg.max_dashboard_connections)
        return false;
    } while (!streams_open.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)); // relaxed: as above
    return true;
  }
  void close_stream() { streams_open.fetch_sub(1, std::memory_order_relaxed); } // relaxed: as above
  std::uint64_t read(stat s) const {
    return counters[static_cast<std::size_t>(s)].load(std::memory_order_relaxed); // relaxed: a pure count
  }

  server_config cfg;
  report_source source;
  event_feed feed; // empty: no dashboard
  detail::allowlist allow;
  detail::basic_auth auth;
  std::optional<asio::ssl::context> tls;
  admission slots;
  render_cache text_cache;
  render_cache om_cache;
  render_cache json_cache;
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(stat::count_)> counters{};
  std::atomic<std::size_t> streams_open{0};
};

server_stats read_stats(const shared_state& st) {
  server_stats s;
  s.requests = st.read(stat::requests);
  s.accepted = st.read(stat::accepted);
  s.refused_not_allowed = st.read(stat::refused_not_allowed);
  s.refused_total_cap = st.read(stat::refused_total_cap);
  s.refused_address_cap = st.read(stat::refused_address_cap);
  s.header_timeouts = st.read(stat::header_timeouts);
  s.read_timeouts = st.read(stat::read_timeouts);
  s.write_timeouts = st.read(stat::write_timeouts);
  s.tls_failures = st.read(stat::tls_failures);
  s.auth_failures = st.read(stat::auth_failures);
  s.bad_requests = st.read(stat::bad_requests);
  s.too_large = st.read(stat::too_large);
  s.accept_errors = st.read(stat::accept_errors);
  s.streams_opened = st.read(stat::streams_opened);
  s.streams_open = st.streams_open.load(std::memory_order_relaxed); // relaxed: a gauge read
  s.refused_stream_cap = st.read(stat::refused_stream_cap);
  s.stream_frames = st.read(stat::stream_frames);
  s.stream_bytes = st.read(stat::stream_bytes);
  s.stream_frames_dropped = st.read(stat::stream_frames_dropped);
  return s;
}

// The server's own counters as metron_http_* families (server_config::self_metrics);
// a family whose name the snapshot already uses is left out, so names never repeat.
// In OpenMetrics (om) a counter family is named without its "_total".
void append_self_metrics(std::string& out, const server_stats& x, const snapshot& s, bool om) {
  struct series {
    const char* reason;
    std::uint64_t value;
  };
  auto family = [&](const char* name, const char* help, std::initializer_list<series> values) {
    std::string_view n{name};
    if (s.find_family(n) || s.find_family(n.substr(0, n.size() - 6))) // with and without _total
      return;
    std::string_view fam = om ? n.substr(0, n.size() - 6) : n;
    out += "# HELP ";
    out += fam;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += fam;
    out += " counter\n";
    for (auto& v : values) {
      out += n;
      if (v.reason) {
        out += "{reason=\"";
        out += v.reason;
        out += "\"}";
      }
      out += ' ';
      out += std::to_string(v.value);
      out += '\n';
    }
  };
  family("metron_http_requests_total", "Responses the metrics endpoint wrote, any status.", {{nullptr, x.requests}});
  family("metron_http_connections_accepted_total", "Connections the metrics endpoint admitted.",
         {{nullptr, x.accepted}});
  family("metron_http_connections_refused_total", "Connections the metrics endpoint reset on accept, by reason.",
         {{"not_allowed", x.refused_not_allowed},
          {"total_cap", x.refused_total_cap},
          {"address_cap", x.refused_address_cap}});
  family("metron_http_connections_closed_total",
         "Connections the metrics endpoint closed for a missed deadline or a failed TLS handshake, by reason.",
         {{"header_timeout", x.header_timeouts},
          {"read_timeout", x.read_timeouts},
          {"write_timeout", x.write_timeouts},
          {"tls_failure", x.tls_failures}});
  family("metron_http_requests_refused_total", "Requests the metrics endpoint refused, by reason.",
         {{"unauthorized", x.auth_failures}, {"bad_request", x.bad_requests}, {"too_large", x.too_large}});
  family("metron_http_accept_errors_total", "Failed accepts (e.g. out of file descriptors), each followed by a pause.",
         {{nullptr, x.accept_errors}});
  if (x.streams_opened || x.refused_stream_cap) { // only once the dashboard was used
    family("metron_http_dashboard_streams_total", "Dashboard event streams, by outcome.",
           {{"opened", x.streams_opened}, {"refused", x.refused_stream_cap}});
    family("metron_http_dashboard_frames_dropped_total",
           "Dashboard events dropped because a stream's queue was full (a slow browser).",
           {{nullptr, x.stream_frames_dropped}});
  }
}

// The writer side of a stream, as its channel sees it (session is a template).
class stream_writer {
public:
  virtual ~stream_writer() = default;
  virtual void write_frames() = 0;
};

// The frames queued for one /events connection (see the file comment). push() runs on
// the producer's thread; the rest on the session's strand.
class stream_channel final : public event_channel {
public:
  struct frame {
    std::shared_ptr<const std::string> text;
    std::function<void()> written;
  };

  stream_channel(std::shared_ptr<shared_state> st, asio::any_io_executor ex, std::weak_ptr<stream_writer> writer)
    : st_(std::move(st)), ex_(std::move(ex)), writer_(std::move(writer)) {}

  bool push(std::shared_ptr<const std::string> text, std::function<void()> written) override {
    std::unique_lock lock{mutex_};
    bool full = text && !queue_.empty() && bytes_ + text->size() > st_->cfg.max_dashboard_queued_bytes;
    if (closed_ || full || !text) {
      lock.unlock();
      if (full)
        st_->count(stat::stream_frames_dropped);
      if (written)
        written();
      return false;
    }
    bytes_ += text->size();
    queue_.push_back({std::move(text), std::move(written)});
    if (!busy_) {
      busy_ = true;
      // Under the lock, so close() cannot drop the executor meanwhile. (post never runs
      // the handler inline, so write_frames cannot take mutex_ in this thread.)
      asio::post(ex_, [w = writer_] {
        if (auto s = w.lock())
          s->write_frames();
      });
    }
    return true;
  }

  // The oldest frame (left queued until pop()), or nullopt: then the writer is idle
  // and the next push wakes it.
  std::optional<frame> front() {
    std::lock_guard guard{mutex_};
    if (queue_.empty()) {
      busy_ = false;
      return std::nullopt;
    }
    return queue_.front();
  }

  void pop() {
    std::lock_guard guard{mutex_};
    bytes_ -= queue_.front().text->size();
    queue_.pop_front();
  }

  // Refuses later pushes and forgets the queue (its written callbacks are not run:
  // the producer learns of the close from its handle's release). Also drops the
  // session's executor: the producer may keep the channel after the server and its
  // io_context are gone, and a strand must not outlive its io_context.
  void close() {
    std::lock_guard guard{mutex_};
    closed_ = true;
    busy_ = true; // no more wake-ups
    queue_.clear();
    bytes_ = 0;
    ex_ = {};
    writer_.reset();
  }

private:
  std::shared_ptr<shared_state> st_;
  asio::any_io_executor ex_;
  std::weak_ptr<stream_writer> writer_;
  std::mutex mutex_;
  std::deque<frame> queue_;
  std::size_t bytes_ = 0;
  bool busy_ = false; // a write_frames is posted or running
  bool closed_ = false;
};

bool is_parse_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The path of a request target in origin-form (/metrics?x) or absolute-form
// (http://host:port/metrics?x, RFC 9112 3.2.2), without the query.
std::string_view target_path(std::string_view t) {
  auto sep = t.find("://");
  if (!t.empty() && t.front() != '/' && sep != std::string_view::npos &&
      (iequals(t.substr(0, sep), "http") || iequals(t.substr(0, sep), "https"))) {
    auto path = t.find_first_of("/?", sep + 3);
    t = path == std::string_view::npos || t[path] == '?' ? std::string_view{"/"} : t.substr(path);
  }
  return t.substr(0, t.find('?'));
}

template <class Stream>
class session final : public std::enable_shared_from_this<session<Stream>>, public stream_writer {
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

public:
  template <class... StreamArgs>
  session(std::shared_ptr<shared_state> st, asio::ip::address cap_key, StreamArgs&&... stream_args)
    : slot_{st, cap_key}, stream_(std::forward<StreamArgs>(stream_args)...), timer_(stream_.get_executor()),
      buffer_(st->cfg.max_request_bytes + 1024), st_(std::move(st)) {}

  ~session() override {
    if (channel_)
      channel_->close(); // see stream_channel::close
  }

  void start() {
    // Start on the session's strand. A new connection's handshake and first header
    // share one deadline.
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      self->deadline_ = std::chrono::steady_clock::now() + self->st_->cfg.header_timeout;
      if constexpr (tls) {
        self->arm(self->deadline_, stat::header_timeouts);
        self->stream_.async_handshake(asio::ssl::stream_base::server,
                                      beast::bind_front_handler(&session::on_handshake, self));
      } else {
        self->read_header();
      }
    });
  }

private:
  // Releases the address's admission slot when the session goes (also if a later
  // member's constructor throws).
  struct slot {
    std::shared_ptr<shared_state> st;
    asio::ip::address cap_key;
    ~slot() { st->slots.release(cap_key); }
  };

  // One of max_dashboard_connections, while the session streams.
  struct stream_slot {
    std::shared_ptr<shared_state> st;
    ~stream_slot() {
      if (st)
        st->close_stream();
    }
  };

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // -- deadlines --
  // One timer per session, on its strand. When it fires it counts why and closes the
  // socket, in that order (so a client that sees the close sees the count), and the
  // pending operation completes with an error that is then dropped silently. Every
  // completion handler disarms it first; the generation number discards a firing
  // that was already queued when its operation completed.
  void arm(std::chrono::steady_clock::time_point at, stat why) {
    auto gen = ++timer_gen_;
    timer_.expires_at(at);
    timer_.async_wait([self = this->shared_from_this(), gen, why](error_code ec) {
      if (ec || gen != self->timer_gen_)
        return;
      self->timed_out_ = true;
      self->st_->count(why);
      error_code ignored;
      self->lowest().socket().close(ignored);
    });
  }

  void arm_after(std::chrono::milliseconds d, stat why) { arm(std::chrono::steady_clock::now() + d, why); }

  // False (drop the connection) if the deadline closed it.
  bool disarm() {
    ++timer_gen_;
    timer_.cancel();
    return !timed_out_;
  }

  void on_handshake(error_code ec) {
    if (!disarm())
      return;
    if (ec)
      return st_->count(stat::tls_failures);
    read_header();
  }

  // Between keep-alive requests: wait up to read_timeout for the next request's first
  // bytes (unless pipelined ones are buffered), then give its header header_timeout.
  void next_request() {
    if (buffer_.size() > 0) {
      deadline_ = std::chrono::steady_clock::now() + st_->cfg.header_timeout;
      return read_header();
    }
    arm_after(st_->cfg.read_timeout, stat::read_timeouts);
    stream_.async_read_some(buffer_.prepare(std::min<std::size_t>(4096, buffer_.max_size())),
                            beast::bind_front_handler(&session::on_first_bytes, this->shared_from_this()));
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    if (!disarm())
      return;
    if (ec)
      return close(); // the client closed or reset
    buffer_.commit(n);
    deadline_ = std::chrono::steady_clock::now() + st_->cfg.header_timeout;
    read_header();
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(st_->cfg.max_request_bytes));
    parser_->body_limit(st_->cfg.max_request_bytes);
    arm(deadline_, stat::header_timeouts);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, this->shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (!disarm())
      return;
    if (ec)
      return on_read_error(ec);
    auto& req = parser_->get();
    bool body_pending = !parser_->is_done();
    auto expect = req[http::field::expect];
    if (!expect.empty() && !iequals({expect.data(), expect.size()}, "100-continue")) {
      st_->count(stat::bad_requests);
      return respond_error(http::status::expectation_failed, "only Expect: 100-continue is supported\n");
    }
    build_response(req);
    if (stream_slot_)
      return start_stream(req.version());
    if (!body_pending)
      return write();
    if (expect.empty())
      return read_body();
    // Expect: 100-continue. The client waits before sending its body: ask for it only
    // if the request will succeed, otherwise answer now and close (the body never comes).
    if (res_.result() != http::status::ok) {
      res_.keep_alive(false);
      return write();
    }
    continue_ = {};
    continue_.version(11);
    continue_.result(http::status::continue_);
    arm_after(st_->cfg.write_timeout, stat::write_timeouts);
    http::async_write(stream_, continue_, beast::bind_front_handler(&session::on_continue, this->shared_from_this()));
  }

  void on_continue(error_code ec, std::size_t) {
    if (!disarm() || ec)
      return;
    read_body();
  }

  void read_body() {
    arm_after(st_->cfg.read_timeout, stat::read_timeouts);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_body, this->shared_from_this()));
  }

  void on_body(error_code ec, std::size_t) {
    if (!disarm())
      return;
    if (ec)
      return on_read_error(ec);
    write();
  }

  void on_read_error(error_code ec) {
    if (ec == http::error::end_of_stream)
      return close();
    if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow) {
      st_->count(stat::too_large);
      return respond_error(http::status::payload_too_large, "request too large\n");
    }
    if (is_parse_error(ec)) {
      st_->count(stat::bad_requests);
      return respond_error(http::status::bad_request, "malformed request\n");
    }
    // A reset, a TLS error, or shutdown: drop the connection.
  }

  void build_response(const http::request<http::string_body>& req) {
    res_ = {};
    res_.version(req.version());
    res_.set(http::field::server, "metron");
    res_.keep_alive(req.keep_alive());
    auto authorization = req[http::field::authorization];
    bool head = req.method() == http::verb::head;
    std::string_view target = target_path({req.target().data(), req.target().size()});
    if (!st_->auth.accepts({authorization.data(), authorization.size()})) {
      st_->count(stat::auth_failures);
      res_.result(http::status::unauthorized);
      res_.set(http::field::www_authenticate, "Basic realm=\"metron\", charset=\"UTF-8\"");
      set_body("text/plain; charset=utf-8", "credentials required\n");
    } else if (req.method() != http::verb::get && !head) {
      res_.result(http::status::method_not_allowed);
      res_.set(http::field::allow, "GET, HEAD");
      set_body("text/plain; charset=utf-8", "only GET and HEAD are supported\n");
    } else if (target == "/metrics" || target == "/metrics.json") {
      auto accept = req[http::field::accept];
      serve(target == "/metrics", target == "/metrics" && wants_openmetrics({accept.data(), accept.size()}));
    } else if (st_->feed && target == "/events") {
      if (head) {
        res_.result(http::status::ok);
        set_body("text/event-stream", {});
      } else if (st_->try_open_stream()) {
        stream_slot_.emplace(st_); // start_stream takes over
      } else {
        st_->count(stat::refused_stream_cap);
        res_.result(http::status::service_unavailable);
        res_.set(http::field::retry_after, "10");
        res_.keep_alive(false);
        set_body("text/plain; charset=utf-8", "too many dashboard connections\n");
      }
    } else if (auto* a = st_->feed ? detail::find_asset(target) : nullptr) {
      res_.result(http::status::ok);
      res_.set(http::field::cache_control, "no-cache");
      res_.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
      res_.set("X-Content-Type-Options", "nosniff");
      set_body(a->content_type, std::string{a->body});
    } else {
      res_.result(http::status::not_found);
      set_body("text/plain; charset=utf-8", "not found; try /metrics or /metrics.json\n");
    }
    if (head) {
      auto length = res_.body().size();
      res_.body().clear();
      res_.content_length(length); // what GET would send (RFC 9110 9.3.2)
    }
  }

  // text: the exposition (om: OpenMetrics 1.0, else 0.0.4), else JSON.
  void serve(bool text, bool om) {
    try {
      report_ptr s = st_->source ? st_->source() : nullptr;
      if (!s)
        s = std::make_shared<const report>(); // nothing yet: an empty, valid document
      std::shared_ptr<const std::string> body;
      if (om)
        body = st_->om_cache.get(s, [this](const report& x) {
          std::string out;
          render_openmetrics(x, out, st_->cfg.text, false); // "# EOF" below, after the self metrics
          return out;
        });
      else if (text)
        body = st_->text_cache.get(s, [this](const report& x) { return render_text(x, st_->cfg.text); });
      else
        body = st_->json_cache.get(s, [](const report& x) { return json::render(x); });
      res_.result(http::status::ok);
      std::string_view type = om ? openmetrics_content_type : text ? content_type : json::content_type;
      if (text && (st_->cfg.self_metrics || om)) {
        std::string with_own = *body;
        if (st_->cfg.self_metrics)
          append_self_metrics(with_own, read_stats(*st_), s->raw(), om);
        if (om)
          with_own += "# EOF\n";
        set_body(type, std::move(with_own));
      } else {
        set_body(type, *body);
      }
    } catch (const std::exception& e) {
      res_.result(http::status::internal_server_error);
      set_body("text/plain; charset=utf-8", std::string{"error: "} + e.what() + "\n");
    }
  }

  void set_body(std::string_view type, std::string body) {
    res_.set(http::field::content_type, beast::string_view{type.data(), type.size()});
    res_.body() = std::move(body);
    res_.prepare_payload();
  }

  void respond_error(http::status status, std::string body) {
    res_ = {};
    res_.version(11);
    res_.result(status);
    res_.set(http::field::server, "metron");
    res_.keep_alive(false);
    set_body("text/plain; charset=utf-8", std::move(body));
    write();
  }

  void write() {
    st_->count(stat::requests);
    arm_after(st_->cfg.write_timeout, stat::write_timeouts);
    http::async_write(stream_, res_, beast::bind_front_handler(&session::on_write, this->shared_from_this()));
  }

  void on_write(error_code ec, std::size_t) {
    if (!disarm() || ec)
      return;
    if (!res_.keep_alive())
      return close();
    next_request();
  }

  // -- event streams --
  // The head, then frames as the channel queues them; the connection stays until the
  // client closes it, sends anything, or takes longer than write_timeout for a write.
  void start_stream(unsigned version) {
    st_->count(stat::requests);
    st_->count(stat::streams_opened);
    stream_head_ = version == 10 ? "HTTP/1.0" : "HTTP/1.1";
    stream_head_ += " 200 OK\r\nServer: metron\r\nContent-Type: text/event-stream\r\n"
                    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
                    "retry: 2000\n\n";
    arm_after(st_->cfg.write_timeout, stat::write_timeouts);
    asio::async_write(stream_, asio::buffer(stream_head_),
                      beast::bind_front_handler(&session::on_stream_head, this->shared_from_this()));
  }

  void on_stream_head(error_code ec, std::size_t) {
    if (!disarm() || ec)
      return end_stream();
    channel_ = std::make_shared<stream_channel>(st_, stream_.get_executor(),
                                                std::weak_ptr<stream_writer>{this->shared_from_this()});
    try {
      producer_ = st_->feed(channel_);
    } catch (const std::exception&) {
      return end_stream();
    }
    // Anything from the client now (it has nothing more to say) or its close ends it.
    stream_.async_read_some(asio::buffer(watch_byte_),
                            beast::bind_front_handler(&session::on_client_input, this->shared_from_this()));
  }

  void on_client_input(error_code, std::size_t) { end_stream(); }

  void write_frames() override {
    if (writing_ || ended_)
      return;
    auto f = channel_->front();
    if (!f)
      return;
    writing_ = true;
    current_ = std::move(*f);
    arm_after(st_->cfg.write_timeout, stat::write_timeouts);
    asio::async_write(stream_, asio::buffer(*current_.text),
                      beast::bind_front_handler(&session::on_frame_written, this->shared_from_this()));
  }

  void on_frame_written(error_code ec, std::size_t n) {
    writing_ = false;
    if (!disarm() || ec || ended_)
      return end_stream();
    st_->count(stat::stream_frames);
    st_->count(stat::stream_bytes, n);
    channel_->pop();
    auto written = std::move(current_.written);
    current_ = {};
    if (written)
      written();
    write_frames();
  }

  // Idempotent: refuses further frames, releases the producer (the exporter's
  // unsubscribes), closes the socket; pending operations complete with errors.
  void end_stream() {
    if (ended_)
      return;
    ended_ = true;
    if (channel_)
      channel_->close();
    producer_.reset();
    close();
  }

  // Closes the TCP connection (over TLS without a close_notify: every response has a
  // Content-Length, so a truncation cannot go unnoticed).
  void close() {
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().close();
  }

  slot slot_;
  Stream stream_;
  asio::steady_timer timer_;
  std::uint64_t timer_gen_ = 0;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  http::response<http::empty_body> continue_;
  std::chrono::steady_clock::time_point deadline_;
  std::shared_ptr<shared_state> st_;
  // -- an /events stream's (stream_slot_ set: this session streams) --
  std::optional<stream_slot> stream_slot_;
  std::string stream_head_;
  std::shared_ptr<stream_channel> channel_;
  std::shared_ptr<void> producer_;
  stream_channel::frame current_;
  std::array<char, 1> watch_byte_{};
  bool writing_ = false;
  bool ended_ = false;
};

} // namespace

struct http_server::impl {
  impl(server_config cfg, report_source source, event_feed events)
    : st(std::make_shared<shared_state>(std::move(cfg), std::move(source), std::move(events))) {
    if (st->cfg.threads < 1)
      st->cfg.threads = 1;
    try {
      tcp::endpoint ep{asio::ip::make_address(st->cfg.address), st->cfg.port};
      acceptor.emplace(asio::make_strand(*ioc));
      accept_backoff.emplace(acceptor->get_executor());
      acceptor->open(ep.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      acceptor->bind(ep);
      acceptor->listen(asio::socket_base::max_listen_connections);
      acceptor->non_blocking(true); // the batch in accept() must never block
      port = acceptor->local_endpoint().port();
    } catch (const boost::system::system_error& e) {
      accept_backoff.reset();
      acceptor.reset();
      throw std::system_error(e.code().value(), std::system_category(),
                              "metron::prometheus::http_server on " + st->cfg.address + ":" +
                                std::to_string(st->cfg.port) + ": " + e.code().message());
    }
    accept();
    for (int i = 0; i < st->cfg.threads; ++i)
      threads.emplace_back([this] { ioc->run(); });
  }

  ~impl() { stop(); }

  // One accept completion, then whatever else is queued (up to accept_batch) without
  // waiting: refusing is O(1) per connection and a flood is drained in few turns, so
  // the listen queue stays short and another address's connect is not stuck behind it.
  void accept() {
    acceptor->async_accept(asio::make_strand(*ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open())
        return;
      if (ec)
        return accept_later(); // e.g. EMFILE: retrying at once would spin
      admit(std::move(socket));
      for (int i = 0; i < accept_batch; ++i) {
        tcp::socket next{asio::make_strand(*ioc)};
        error_code e;
        acceptor->accept(next, e);
        if (e)
          break; // would_block: the queue is empty (or an error such as EMFILE)
        admit(std::move(next));
      }
      accept();
    });
  }

  // After an accept error (out of file descriptors, say) the connection is still
  // queued and the next accept would fail at once: wait a little, then listen again.
  void accept_later() {
    st->count(stat::accept_errors);
    accept_backoff->expires_after(std::chrono::milliseconds{50});
    accept_backoff->async_wait([this](error_code ec) {
      if (!ec && acceptor->is_open())
        accept();
    });
  }

  void admit(tcp::socket socket) noexcept {
    error_code ec;
    auto peer = socket.remote_endpoint(ec).address();
    if (ec)
      return; // already gone
    auto refuse = [&](stat why) {
      st->count(why);
      error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored); // reset: no TIME_WAIT left behind
      socket.close(ignored);
    };
    if (!st->allow.allows(peer))
      return refuse(stat::refused_not_allowed);
    auto key = cap_key(peer);
    switch (st->slots.try_admit(key)) {
      case admission::result::total_cap: return refuse(stat::refused_total_cap);
      case admission::result::address_cap: return refuse(stat::refused_address_cap);
      case admission::result::admitted: break;
    }
    st->count(stat::accepted);
    try {
      if (st->tls)
        std::make_shared<session<beast::ssl_stream<beast::tcp_stream>>>(st, key, std::move(socket), *st->tls)->start();
      else
        std::make_shared<session<beast::tcp_stream>>(st, key, std::move(socket))->start();
    } catch (const std::exception&) {
      // Out of memory or TLS state: the session's slot was released by its destructor.
    }
  }

  // Stops the loop, joins the threads, then destroys the acceptor and the io_context:
  // destroying the io_context destroys every pending handler, hence every session,
  // which closes its socket (asio's documented shutdown sequence).
  void stop() noexcept {
    std::lock_guard guard{stop_mutex};
    if (!ioc)
      return;
    ioc->stop();
    for (auto& t : threads)
      t.join();
    threads.clear();
    accept_backoff.reset();
    acceptor.reset();
    ioc.reset();
  }

  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>();
  std::shared_ptr<shared_state> st;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_backoff; // on the acceptor's strand
  std::uint16_t port = 0;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
};

http_server::http_server(server_config cfg, report_source source, event_feed events)
  : impl_(std::make_unique<impl>(std::move(cfg), std::move(source), std::move(events))) {}

http_server::~http_server() {
  stop();
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port;
}

const std::string& http_server::address() const noexcept {
  return impl_->st->cfg.address;
}

std::uint64_t http_server::requests() const noexcept {
  return impl_->st->read(stat::requests);
}

server_stats http_server::stats() const noexcept {
  return read_stats(*impl_->st);
}

void http_server::stop() noexcept {
  impl_->stop();
}

} // namespace metron::prometheus
