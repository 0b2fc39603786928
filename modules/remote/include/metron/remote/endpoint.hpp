// metron/remote/endpoint.hpp — publishing a monitor on a TCP port and obtaining a
// remote one, over CAF's middleman (BASP, CAF's binary actor protocol).
//
// A published monitor is used remotely exactly like a local one: the handle that
// connect() returns is a proxy typed as monitor_actor, subscribers subscribe with
// (subscribe_atom, subscriber_actor) and receive each report_ptr as a request; the reply
// travels back over the same connection and is the acknowledgement, so the
// monitor's credit-based flow control works across the wire unchanged.
//
// Requirements: the actor_system was configured with configure() (middleman loaded,
// types registered) on both ends. Both calls wait for the middleman (publish binds,
// connect does the TCP connect and BASP handshake): call them from a plain thread or
// a blocking actor, never from inside an event-based actor's handler. The
// cluster collector connects asynchronously instead (collector.hpp).
//
// Robustness: anything from the network is hostile. publish() puts a frame guard
// on the public port and a facade in front of the monitor; connect() and the
// collector put a guard on their side of each connection (a hostile or impostor
// node must not crash or bloat the process that connects to it). A guard is a CAF
// broker that owns the TCP connection, hands CAF one end of a socketpair, and checks
// every BASP header of the peer against the rules of its direction before CAF reads
// it (CAF 0.17 would size a buffer from it, or crash on a handshake without payload);
// only complete, checked frames reach CAF. It also enforces a handshake timeout, an
// idle timeout, a budget for partial frames and a bound on what a peer leaves
// unread. The facade refuses remote interval changes (unless allowed) and
// subscriptions beyond the per-peer and total limits. Every refusal is counted
// (stats.hpp). Rules, bounds and defaults: modules/remote/NOTES.md.
//
// Shutdown: the middleman keeps a published monitor's facade alive, and the facade
// the monitor, so terminate the monitor (send it an exit message) before the actor
// system is destroyed — as with any actor published with CAF; the facade and the
// guard follow it, the port closes and the system's shutdown completes.
//
// Concurrency: thread-safe (the middleman serializes the work).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "metron/actors/monitor.hpp"
#include "metron/remote/stats.hpp"

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
  /// Put the frame guard in front of CAF's BASP broker (see the file comment).
  bool guard = true;
  /// Guard: largest payload a peer may announce in one frame. What a monitor receives
  /// is small (subscribe, get, acks, the handshake); snapshots flow the other way.
  std::uint32_t max_frame = 1u << 20;
  /// Guard: connections served at once; further ones are closed at once.
  std::size_t max_connections = 256;
  /// Guard: a connection must complete its BASP handshake within this time.
  std::chrono::milliseconds handshake_timeout{5000};
  /// Guard: a peer that sends nothing for this long is disconnected (0: never). A
  /// subscriber acks every snapshot, so keep it well above the monitor's interval; a
  /// peer that only polls should poll more often or enable CAF's heartbeat
  /// (middleman.heartbeat-interval), which counts as traffic.
  std::chrono::milliseconds idle_timeout{60000};
  /// Guard: bytes of incomplete frames held for all peers together; the peer whose
  /// frame goes over is disconnected.
  std::size_t partial_frame_budget = 16u << 20;
  /// Guard: bytes a peer may leave unread (sent to it, not yet taken). A peer above it
  /// that took no byte for a sweep period (a quarter of the shorter of the two
  /// timeouts) is disconnected; a reading peer may exceed it during a fan-out burst.
  std::uint64_t max_backlog = 64u << 20;
  /// Facade: distinct subscribers of one peer node, and of all peers together.
  std::size_t max_subscriptions_per_peer = 16;
  std::size_t max_subscriptions = 256;
  /// Facade: let peers change the monitor's interval (interval_atom); refused if false.
  bool allow_remote_control = false;
  /// Where refusals are counted (null: counted nowhere observable).
  std::shared_ptr<remote_stats> stats;
};

/// Publishes `mon` on addr:port and returns the bound port (port 0: the OS picks
/// one). Throws std::runtime_error (with CAF's error text) if the port cannot be bound.
std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr, const publish_options& opts);

/// publish() with the default options, reuse as given.
std::uint16_t publish(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                      const char* addr = "127.0.0.1", bool reuse = true);

/// How connect() (and the collector, per node) connects.
struct connect_options {
  /// Bound on the TCP connect and on the BASP handshake, each.
  std::chrono::milliseconds timeout{5000};
  /// Largest payload the node may announce in one frame (a snapshot of 10,000 metrics
  /// is ~15 MB, NOTES.md).
  std::uint32_t max_frame = 64u << 20;
  /// Where refusals are counted (null: counted nowhere observable).
  std::shared_ptr<remote_stats> stats;
};

/// Connects to the monitor published at host:port through a client guard (waits for
/// the handshake). Fails with CAF's error (e.g. sec::cannot_connect_to_node, or
/// sec::unexpected_actor_messaging_interface when the actor there is not a monitor).
caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host, std::uint16_t port,
                                     const connect_options& opts);

/// connect() with the default options.
caf::expected<monitor_actor> connect(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port);

} // namespace metron::remote
