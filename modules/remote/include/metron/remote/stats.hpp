// metron/remote/stats.hpp — what the remote module refused, counted.
//
// Every refusal of a published port's guard, a client-side guard (collector,
// connect()) or a published monitor's facade is counted by reason:
//
//   bad_frame           a BASP header outside its direction's rules (NOTES.md: unknown
//                       or wrong-direction operation, a length or field a well-behaved
//                       peer never sends, a handshake out of order) — connection closed
//   handshake_timeout   no complete handshake within handshake_timeout — closed
//   idle_timeout        a peer silent for idle_timeout after its handshake — closed
//   connection_limit    a connection beyond max_connections — closed at once
//   memory_budget       partial frames of all peers above the budget — the peer whose
//                       frame went over is closed
//   backlog             a peer that does not read: unsent bytes above max_backlog — closed
//   subscription_limit  a subscribe beyond the per-peer or total limit — ignored
//   control             a remote interval change while remote control is off — ignored
//   wire_frame          a delta-wire frame a collector's link could not decode (malformed,
//                       out of bounds; NOTES.md "Delta wire") — refused, the link asks the
//                       node for a full frame
//
// Read them with refused(reason), or pass a registry: each count is then also the
// counter metron_remote_refusals_total{reason="<name>"} of that registry (e.g. the
// registry the published monitor monitors, so refusals travel in its snapshots). The
// registry must outlive the stats object.
//
// Concurrency: count() and refused() are thread-safe (guards run on the middleman's
// threads, facades on the scheduler's; readers anywhere).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "metron/registry.hpp"

namespace metron::remote {

/// Why the remote module refused something (see the file comment).
enum class refusal : std::uint8_t {
  bad_frame,
  handshake_timeout,
  idle_timeout,
  connection_limit,
  memory_budget,
  backlog,
  subscription_limit,
  control,
  wire_frame,
};

inline constexpr std::size_t refusal_kinds = 9;

/// "bad_frame", "handshake_timeout", ... (the metric's reason label).
const char* to_string(refusal r) noexcept;

class remote_stats {
public:
  /// Counts into atomics only.
  remote_stats() = default;

  /// Also counts into metron_remote_refusals_total{reason} of `metrics` (created now).
  explicit remote_stats(registry& metrics);

  remote_stats(const remote_stats&) = delete;
  remote_stats& operator=(const remote_stats&) = delete;

  /// Counts one refusal.
  void count(refusal r) noexcept;

  /// Refusals of kind `r` so far.
  std::uint64_t refused(refusal r) const noexcept;

  /// All refusals so far.
  std::uint64_t refused_total() const noexcept;

private:
  // relaxed (count, refused): independent event counters; nothing is published with them.
  std::array<std::atomic<std::uint64_t>, refusal_kinds> counts_{};
  std::array<counter*, refusal_kinds> metrics_{};
};

} // namespace metron::remote
