#include "metron/remote/endpoint.hpp"

#include <charconv>
#include <stdexcept>

#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/io/doorman.hpp>

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
  if (!opts.guard) {
    auto res = mm.publish(mon, port, addr, opts.reuse);
    if (!res)
      cannot_publish(sys, addr, port, res.error());
    return *res;
  }
  auto inner = mm.publish(mon, 0, "127.0.0.1", false);
  if (!inner)
    cannot_publish(sys, "127.0.0.1", 0, inner.error());
  auto door = mm.backend().new_tcp_doorman(port, addr, opts.reuse);
  if (!door) {
    mm.unpublish(mon, *inner);
    cannot_publish(sys, addr, port, door.error());
  }
  auto bound = (*door)->port();
  detail::spawn_guard(sys, std::move(*door), *inner, opts.max_frame, opts.max_connections, mon.address());
  return bound;
}

std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr, bool reuse) {
  publish_options opts;
  opts.reuse = reuse;
  return publish(sys, mon, port, addr, opts);
}

caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port) {
  return sys.middleman().remote_actor<monitor_actor>(host, port);
}

} // namespace metron::remote
