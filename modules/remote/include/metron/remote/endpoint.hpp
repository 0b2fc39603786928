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
// Robustness (publish_options::guard, on by default): CAF 0.17's BASP broker sizes its
// read buffer from a header's payload_len before any payload arrives, so a single
// 32-byte header announcing 4 GiB makes it allocate and zero 4 GiB (a few of those and
// the node is OOM-killed). publish() therefore puts a frame guard on the public port: a
// CAF broker that relays each connection to the monitor's real BASP port (published on
// 127.0.0.1, an ephemeral port) and checks the peer's stream frame by frame — an
// unknown operation or a payload above max_frame closes that connection before CAF
// reads the header. The guard passes every valid frame unchanged (the protocol is
// CAF's BASP), costs one loopback hop and one copy per byte, and terminates with the
// published monitor.
//
// Shutdown: the middleman keeps a published monitor alive, so terminate it (send it an
// exit message) before the actor system is destroyed — as with any actor published
// with CAF; its guard then closes the port and the system's shutdown completes. Garbage that does look like BASP (valid header, garbage payload)
// reaches CAF, which rejects it and closes the connection; the node keeps serving
// (tested with random bytes and with crafted 4 GiB headers).
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

/// How publish() listens.
struct publish_options {
  /// SO_REUSEADDR: a restarted node can bind its old port again while connections of
  /// its previous life sit in TIME_WAIT (on Linux it does not let two live listeners
  /// share a port).
  bool reuse = true;
  /// Put the frame guard in front of CAF's BASP port (see the file comment).
  bool guard = true;
  /// Guard: largest payload a peer may announce in one frame. What a monitor receives
  /// is small (subscribe, get, acks, the handshake); snapshots flow the other way.
  std::uint32_t max_frame = 1u << 20;
  /// Guard: connections served at once; further ones are closed at once.
  std::size_t max_connections = 256;
};

/// Publishes `mon` on addr:port and returns the bound port (port 0: the OS picks
/// one). Throws std::runtime_error (with CAF's error text) if the port cannot be bound.
std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr, const publish_options& opts);

/// publish() with the default options, reuse as given.
std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr = "127.0.0.1", bool reuse = true);

/// Connects to the monitor published at host:port (waits for the handshake). Fails
/// with CAF's error (e.g. sec::cannot_connect_to_node, or sec::unexpected_actor_messaging_interface
/// when the actor there is not a monitor).
caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port);

} // namespace metron::remote
