#include "metron/remote/endpoint.hpp"

#include <charconv>
#include <set>
#include <stdexcept>

#include <caf/all.hpp>

#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/io/doorman.hpp>

#include "facade.hpp"
#include "guard.hpp"

namespace metron::remote {

std::string to_string(const endpoint& x) {
  bool v6 = x.host.find(':') != std::string::npos;
  return (v6 ? "[" + x.host + "]" : x.host) + ":" + std::to_string(x.port);
}

std::optional<endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt; // a bare IPv6 address needs brackets
  }
  auto digits = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
    return std::nullopt;
  return endpoint{std::string{host}, static_cast<std::uint16_t>(port)};
}

namespace {

[[noreturn]] void cannot_publish(caf::actor_system& sys, const char* addr, std::uint16_t port,
                                 const caf::error& err) {
  throw std::runtime_error("metron: cannot publish the monitor on " + std::string{addr ? addr : "*"} + ":"
                           + std::to_string(port) + ": " + sys.render(err));
}

} // namespace

std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr, const publish_options& opts) {
  auto& mm = sys.middleman();
  detail::facade_limits fl;
  fl.max_per_peer = opts.max_subscriptions_per_peer;
  fl.max_total = opts.max_subscriptions;
  fl.allow_control = opts.allow_remote_control;
  fl.stats = opts.stats;
  auto facade = detail::spawn_facade(sys, mon, std::move(fl));
  auto fail = [&](const char* where, std::uint16_t at, const caf::error& err) {
    caf::anon_send_exit(facade, caf::exit_reason::user_shutdown);
    cannot_publish(sys, where, at, err);
  };
  if (!opts.guard) {
    auto res = mm.publish(facade, port, addr, opts.reuse);
    if (!res)
      fail(addr, port, res.error());
    return *res;
  }
  auto door = mm.backend().new_tcp_doorman(port, addr, opts.reuse);
  if (!door)
    fail(addr, port, door.error());
  auto bound = (*door)->port();
  detail::guard_limits gl;
  gl.max_frame = opts.max_frame;
  gl.max_connections = opts.max_connections;
  gl.partial_budget = opts.partial_frame_budget;
  gl.max_backlog = opts.max_backlog;
  gl.handshake_timeout = opts.handshake_timeout;
  gl.idle_timeout = opts.idle_timeout;
  gl.stats = opts.stats;
  detail::spawn_server_guard(sys, std::move(*door), bound, caf::actor_cast<caf::actor>(facade),
                             sys.message_types(facade), std::move(gl));
  return bound;
}

std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr, bool reuse) {
  publish_options opts;
  opts.reuse = reuse;
  return publish(sys, mon, port, addr, opts);
}

caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                     const connect_options& opts) {
  auto fd = detail::tcp_connect(host, port, opts.timeout);
  if (!fd)
    return std::move(fd.error());
  auto link = detail::start_client_guard(sys, *fd, detail::client_limits(opts));
  if (!link)
    return std::move(link.error());
  caf::expected<monitor_actor> result{caf::sec::cannot_connect_to_node};
  caf::scoped_actor self{sys};
  self->request(detail::basp_broker(sys), opts.timeout, caf::connect_atom::value, std::move(link->basp_end), port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        if (!ptr)
          result = caf::make_error(caf::sec::no_actor_published_at_port, port);
        else if (!sys.assignable<monitor_actor>(ifs))
          result = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
        else
          result = caf::actor_cast<monitor_actor>(std::move(ptr));
      },
      [&](caf::error& err) {
        self->send_exit(link->guard, caf::exit_reason::user_shutdown);
        result = std::move(err);
      });
  return result;
}

caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port) {
  return connect(sys, host, port, connect_options{});
}

} // namespace metron::remote
