// The Beast server behind http_server.hpp. One accept loop; one session object per
// connection, alive while an operation of it is pending (shared_from_this), each on
// its own strand so threads > 1 is safe. Everything a session needs beyond its socket
// lives in a shared_state held by shared_ptr, so sessions destroyed by the
// io_context's destructor never reach into a half-destroyed server.
#include "metron/prometheus/http_server.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "metron/json.hpp"

namespace metron::prometheus {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;

namespace {

// The rendered body of the snapshot served last, per format: concurrent scrapes of
// one snapshot render it once.
class render_cache {
public:
  template <class Render>
  std::shared_ptr<const std::string> get(const snapshot_ptr& s, Render render) {
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
  snapshot_ptr last_;
  std::shared_ptr<const std::string> text_;
};

struct shared_state {
  server_config cfg;
  snapshot_source source;
  render_cache text_cache;
  render_cache json_cache;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::uint64_t> requests{0};
};

bool is_parse_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, std::shared_ptr<shared_state> st)
    : stream_(std::move(socket)), buffer_(st->cfg.max_request_bytes + 1024), st_(std::move(st)) {
    st_->connections.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  }

  ~session() {
    st_->connections.fetch_sub(1, std::memory_order_relaxed); // relaxed: a pure count
  }

  void start() {
    // Start on the session's strand.
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read, shared_from_this()));
  }

private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(st_->cfg.max_request_bytes));
    parser_->body_limit(st_->cfg.max_request_bytes);
    stream_.expires_after(st_->cfg.read_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream)
      return close();
    if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow)
      return respond_error(http::status::payload_too_large, "request too large\n");
    if (ec && is_parse_error(ec))
      return respond_error(http::status::bad_request, "malformed request\n");
    if (ec)
      return; // timeout (the stream is closed), reset, or shutdown: drop the connection
    auto& req = parser_->get();
    res_ = {};
    res_.version(req.version());
    res_.set(http::field::server, "metron");
    res_.keep_alive(req.keep_alive());
    std::string_view target{req.target().data(), req.target().size()};
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get) {
      res_.result(http::status::method_not_allowed);
      res_.set(http::field::allow, "GET");
      set_body("text/plain; charset=utf-8", "only GET is supported\n");
    } else if (target == "/metrics" || target == "/metrics.json") {
      serve(target == "/metrics");
    } else {
      res_.result(http::status::not_found);
      set_body("text/plain; charset=utf-8", "not found; try /metrics or /metrics.json\n");
    }
    write();
  }

  void serve(bool text) {
    try {
      snapshot_ptr s = st_->source ? st_->source() : nullptr;
      if (!s)
        s = std::make_shared<const snapshot>(); // nothing yet: an empty, valid document
      std::shared_ptr<const std::string> body;
      if (text)
        body = st_->text_cache.get(s, [this](const snapshot& x) { return render_text(x, st_->cfg.text); });
      else
        body = st_->json_cache.get(s, [](const snapshot& x) { return json::render(x); });
      res_.result(http::status::ok);
      set_body(text ? content_type : json::content_type, *body);
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
    st_->requests.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
    stream_.expires_after(st_->cfg.write_timeout);
    http::async_write(stream_, res_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(error_code ec, std::size_t) {
    if (ec)
      return;
    if (!res_.keep_alive())
      return close();
    read();
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::shared_ptr<shared_state> st_;
};

} // namespace

struct http_server::impl {
  impl(server_config cfg, snapshot_source source) : st(std::make_shared<shared_state>()) {
    st->cfg = std::move(cfg);
    st->source = std::move(source);
    if (st->cfg.threads < 1)
      st->cfg.threads = 1;
    try {
      tcp::endpoint ep{asio::ip::make_address(st->cfg.address), st->cfg.port};
      acceptor.emplace(asio::make_strand(*ioc));
      acceptor->open(ep.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      acceptor->bind(ep);
      acceptor->listen(asio::socket_base::max_listen_connections);
      port = acceptor->local_endpoint().port();
    } catch (const boost::system::system_error& e) {
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

  void accept() {
    acceptor->async_accept(asio::make_strand(*ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open())
        return;
      if (!ec) {
        auto open = st->connections.load(std::memory_order_relaxed); // relaxed: an admission count, publishes nothing
        if (open >= st->cfg.max_connections) {
          error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<session>(std::move(socket), st)->start();
        }
      }
      accept(); // also after an accept error (e.g. EMFILE): keep listening
    });
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
    acceptor.reset();
    ioc.reset();
  }

  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>();
  std::shared_ptr<shared_state> st;
  std::optional<tcp::acceptor> acceptor;
  std::uint16_t port = 0;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
};

http_server::http_server(server_config cfg, snapshot_source source)
  : impl_(std::make_unique<impl>(std::move(cfg), std::move(source))) {}

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
  return impl_->st->requests.load(std::memory_order_relaxed); // relaxed: a pure count
}

void http_server::stop() noexcept {
  impl_->stop();
}

} // namespace metron::prometheus
