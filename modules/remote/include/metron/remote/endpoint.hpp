// metron/remote/endpoint.hpp — publishing a monitor on a TCP port and obtaining a
// remote one, over CAF's middleman (BASP, CAF's binary actor protocol).
//
// A published monitor is used remotely exactly like a local one: the handle that
// connect() returns is a proxy typed as monitor_actor, subscribers subscribe with
// (subscribe_atom, caf::actor) and receive each snapshot_ptr as a request; the reply
// travels back over the same connection and is the acknowledgement, so the
// monitor's credit-based flow control works across the wire unchanged.
//
// Requirements: the actor_system was configured with configure() (middleman loaded,
// types registered) on both ends. Both calls wait for the middleman (publish binds,
// connect does the TCP connect and BASP handshake): call them from a plain thread or
// a blocking actor, never from inside an event-based actor's handler. The
// cluster collector connects asynchronously instead (collector.hpp).
//
// Robustness: the middleman validates every BASP header; a peer sending garbage to a
// published port loses its connection, the node keeps serving (tested).
//
// Concurrency: thread-safe (the middleman serializes the work).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "metron/actors/monitor.hpp"

namespace metron::remote {

/// Where a published monitor listens.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// "host:port" (IPv6 hosts in brackets: "[::1]:port").
std::string to_string(const endpoint& x);

/// Parses "host:port" or "[v6]:port"; nullopt if malformed or the port is 0 / > 65535.
std::optional<endpoint> parse_endpoint(std::string_view text);

/// Publishes `mon` on addr:port and returns the bound port (port 0: the OS picks
/// one). reuse sets SO_REUSEADDR, so a restarted node can bind its old port again
/// while connections of its previous life sit in TIME_WAIT (on Linux it does not let
/// two live listeners share a port). Throws std::runtime_error (with CAF's error
/// text) if the port cannot be bound.
std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr = "127.0.0.1", bool reuse = true);

/// Connects to the monitor published at host:port (waits for the handshake). Fails
/// with CAF's error (e.g. sec::cannot_connect_to_node, or sec::unexpected_actor_messaging_interface
/// when the actor there is not a monitor).
caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port);

} // namespace metron::remote
