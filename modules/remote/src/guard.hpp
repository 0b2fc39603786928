// Internal (not installed): the BASP frame guards of the remote module.
//
// A guard is a CAF broker that relays one side of a BASP connection to CAF's BASP
// broker through a socketpair and checks every frame the outside peer sends before
// CAF sees a byte of it:
//   - server guard (publish): the outside peer is a client; its frames must follow the
//     client -> server rules; one guard per published port, many connections;
//   - client guard (connect, the collector): the outside peer is a server; its frames
//     must follow the server -> client rules; one guard per connection.
// Frames are stored and forwarded: CAF only ever gets complete, checked frames, so a
// peer that announces a payload and goes silent costs the guard what it actually
// sent, never what it announced. See NOTES.md for the rules table.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/fwd.hpp>
#include <caf/io/scribe.hpp>
#include <caf/io/network/native_socket.hpp>

#include "metron/remote/endpoint.hpp"
#include "metron/remote/stats.hpp"

namespace metron::remote::detail {

// -- frame rules -----------------------------------------------------------------

/// Which peer's frames are checked.
enum class direction : std::uint8_t {
  client_to_server, // checked by a published port's guard
  server_to_client, // checked by a connecting process's guard
};

/// A BASP header as it is on the wire (32 bytes, network byte order).
struct frame_header {
  static constexpr std::size_t size = 32;
  std::uint8_t operation = 0;
  std::uint8_t padding1 = 0;
  std::uint8_t padding2 = 0;
  std::uint8_t flags = 0;
  std::uint32_t payload_len = 0;
  std::uint64_t operation_data = 0;
  std::uint64_t source_actor = 0;
  std::uint64_t dest_actor = 0;

  static frame_header parse(const unsigned char* p) noexcept;
};

/// The per-direction rules, with the state they depend on (handshakes seen so far).
class frame_rules {
public:
  frame_rules(direction dir, std::uint32_t max_payload) noexcept : dir_(dir), max_payload_(max_payload) {}

  /// True if a well-behaved peer of this direction may send `h` now; then records it.
  bool accept(const frame_header& h) noexcept;

  /// True once the peer's first frame (its handshake) was accepted.
  bool greeted() const noexcept { return frames_ > 0; }

private:
  bool accept_client_frame(const frame_header& h) noexcept;
  bool accept_server_frame(const frame_header& h) noexcept;
  bool probe_once(const frame_header& h) noexcept;

  direction dir_;
  std::uint32_t max_payload_;
  std::uint64_t frames_ = 0;
  bool reselected_ = false; // client: the one handshake with select_connection_flag
  bool probed_ = false;     // the one message to a named receiver (the spawn server)
};

/// Cuts a byte stream into frames, checks each header with frame_rules and releases
/// only complete frames. Holds at most one partial frame.
class frame_stream {
public:
  frame_stream(direction dir, std::uint32_t max_payload) : rules_(dir, max_payload) {}

  /// Appends the complete frames in data[0, n) (and before) to `out`; keeps the rest.
  /// Returns false as soon as a header breaks the rules.
  bool feed(const char* data, std::size_t n, std::vector<char>& out);

  /// Bytes held for the partial frame (allocated capacity).
  std::size_t held() const noexcept { return partial_.capacity(); }

  /// True once a complete handshake frame was released.
  bool handshake_done() const noexcept { return handshake_done_; }

private:
  frame_rules rules_;
  std::vector<char> partial_;
  std::size_t need_ = frame_header::size; // bytes that complete the current frame
  bool header_checked_ = false;
  bool handshake_done_ = false;
};

// -- guards ----------------------------------------------------------------------

/// Bounds shared by both kinds of guard.
struct guard_limits {
  std::uint32_t max_frame = 1u << 20;      // largest payload the outside peer may announce
  std::size_t max_connections = 256;       // server guard: connections at once
  std::size_t partial_budget = 16u << 20;  // bytes of partial frames held, all peers
  std::uint64_t max_backlog = 64u << 20;   // unsent bytes towards a peer that stopped reading
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds idle_timeout{0}; // 0: none
  std::shared_ptr<remote_stats> stats;
};

/// The limits of a client guard for `opts`: one connection, one frame of at most
/// opts.max_frame held at a time, the handshake within opts.timeout, no idle timeout
/// (a node's tick may be long; the collector has its own staleness rule).
guard_limits client_limits(const connect_options& opts);

/// Spawns the server guard on `door`: each accepted connection is relayed to the
/// BASP broker as a connection to the actor `published` (interface `sigs`) on
/// `port`. The guard terminates with `published`.
caf::actor spawn_server_guard(caf::actor_system& sys, caf::io::doorman_ptr door, std::uint16_t port,
                              caf::actor published, std::set<std::string> sigs, guard_limits limits);

/// A TCP connection to host:port (blocking), the connect bounded by `timeout` (the
/// name lookup is not). The caller owns the returned socket.
caf::expected<int> tcp_connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

/// A detached helper that answers one caf::connect_atom request with tcp_connect()'s
/// result (the socket as int, or the error) and terminates.
caf::actor spawn_tcp_connector(caf::actor_system& sys, std::string host, std::uint16_t port,
                               std::chrono::milliseconds timeout);

/// A client guard on the connected socket `fd` (taken over), and CAF's end of the
/// relay: hand it to the BASP broker with (caf::connect_atom, basp_end, port), which
/// answers (node_id, strong_actor_ptr, std::set<std::string>) after the handshake, as
/// it does for the middleman actor. On failure, send the guard an exit message.
struct client_link {
  caf::actor guard;
  caf::io::scribe_ptr basp_end;
};
caf::expected<client_link> start_client_guard(caf::actor_system& sys, int fd, guard_limits limits);

/// The middleman's BASP broker.
caf::actor basp_broker(caf::actor_system& sys);

} // namespace metron::remote::detail
