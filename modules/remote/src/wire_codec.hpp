// Internal (not installed): the delta wire between a node and a collector's link.
//
// Per connection, a node's encoder and the link's decoder keep the same picture of
// the node's registry: every series (and family) is described once, with a small
// integer id the encoder picks (freed ids are reused, so ids stay dense); after that a
// frame carries, per series whose recorded values changed since the base, its id and
// the change; an unchanged series costs nothing. Plain bytes, no CAF (the frame
// crosses the wire inside a wire_frame message, wire_messages.hpp).
//
// Frame (integers are LEB128 varints, "zz" = zigzag varint, str = varint length +
// bytes; the whole frame must be consumed):
//   u8 0x6D ('m'), u8 version 1, u8 flags (bit 0: full; other bits 0)
//   seq (!= 0), base (full: 0; else the seq the frame was encoded against)
//   zz wall_ns - base wall_ns, zz mono_ns - base mono_ns (full: against 0)
//   n, n x family id                                          families removed
//   n, n x (id, u8 kind, str name, str help)                  families described
//   n, n x series id                                          series removed
//   n, n x (id, u8 kind, str name, n, n x (str key, str value)) series described
//   n, n x (id gap, change)                                   changed series, ids
//                                                             ascending: id = prev + 1 + gap
// A described series starts at zero (0, 0.0, empty histogram) and appears among the
// changes when it is not zero. Removals apply before descriptions (an id freed and
// reused in one frame is fine). Changes by kind:
//   counter    increase, modulo 2^64 (a total that went down costs 10 bytes)
//   updown     zz change
//   gauge      u8 mask: bit 0 value, bit 1 rejected, bits 2-4 t; then, per set bit,
//              xor of the double's bits >> 8t (t = its trailing zero bytes), increase
//   histogram  flags: bit 0 buckets, 1 sum, 2 min, 3 max, 4 rejected, bits 5-7 / 8-10 /
//              11-13 the t of sum / min / max; then per set bit: n, n x (index gap,
//              zz count change) (a bucket whose count becomes 0 is gone); sum, min, max
//              as xors; rejected increase. The count is the sum of the buckets.
//
// Acknowledgement: the encoder encodes against the state the decoder last
// acknowledged (the base) and keeps at most one frame in flight; the decoder answers
// every frame with the seq of the state it now holds (held(), 0 after an error). A
// frame whose base is not what the decoder holds is refused (no state is guessed) and
// the encoder, seeing an answer that is not its frame's seq, sends a full frame next.
// A decoder refuses malformed input with an error and forgets its state (see limits):
// every length, count, id, bucket index and string is bounded before anything is
// allocated for it, and what the decoder holds over many frames is bounded too.
//
// Concurrency: plain objects; one thread at a time (each lives in one actor).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "metron/snapshot.hpp"

namespace metron::remote::wire {

inline constexpr std::uint8_t magic = 0x6D;
inline constexpr std::uint8_t version = 1;

/// What a decoder accepts and holds (defaults: the registry's defaults with room).
struct limits {
  std::size_t max_frame_bytes = 64u << 20;    // one frame (the guard's max_frame)
  std::size_t max_series = 1u << 18;          // live series; ids are below this
  std::size_t max_families = 1u << 18;        // live families; ids are below this
  std::size_t max_identity_bytes = 64u << 20; // names, label keys and values, help held
  std::size_t max_buckets = 8u << 20;         // non-empty histogram buckets held
  std::size_t max_name_bytes = 255;           // as registry_config
  std::size_t max_label_value_bytes = 4096;
  std::size_t max_help_bytes = 4096;
  std::size_t max_labels = 32;
};

/// Why a decoder refused a frame.
enum class error : std::uint8_t {
  none,
  truncated,    // ended inside a field
  bad_header,   // magic, version, flags, seq
  base,         // not encoded against the state held (a resync, not hostile)
  limit,        // a count, size or budget of `limits` exceeded
  bad_id,       // an id out of range, unknown, or described twice
  bad_identity, // invalid name, label, UTF-8 or kind
  duplicate,    // two series (families) with the same identity
  bad_change,   // a malformed change (mask bits, bucket index)
  trailing,     // bytes after the last field
};

const char* to_string(error e) noexcept;

using bytes = std::vector<std::uint8_t>;

/// Node side, one per connection.
class encoder {
public:
  /// Encodes `s` (sorted, as snapshots are) against the acknowledged base, or as a
  /// full frame when there is none, and keeps it as the frame in flight (replacing an
  /// unacknowledged one). Cost: one pass over base and `s`; copies no identity.
  bytes encode(snapshot_ptr s);

  /// The decoder's answer to the frame in flight: the seq it holds now. Its seq makes
  /// that frame the base; anything else drops the base (the next frame is full).
  void acknowledged(std::uint64_t held);

  /// Drops base and frame in flight: the next frame is full (a lost answer, a new
  /// connection, a resync request).
  void reset();

  /// Seq of the frame in flight (0: none).
  std::uint64_t in_flight() const noexcept { return flight_ ? flight_->seq : 0; }

  /// True if the next frame is a delta.
  bool has_base() const noexcept { return base_.has_value(); }

  /// What the encoder believes the decoder holds (ids parallel to the samples).
  struct state {
    std::uint64_t seq = 0;
    snapshot_ptr snap;
    std::vector<std::uint32_t> family_ids;
    std::array<std::vector<std::uint32_t>, 4> ids; // per metric_kind
    std::uint32_t next_family = 0, next_series = 0;
    std::vector<std::uint32_t> free_families, free_series;
  };

private:
  std::optional<state> base_, flight_;
  std::uint64_t seq_ = 0;
};

/// Collector side, one per connection.
class decoder {
public:
  explicit decoder(limits lim = {}) : lim_(lim) {}

  /// Applies one frame. Success: the snapshot it describes (sorted; identities are the
  /// ones made when each series was described, shared tick to tick) and held() is the
  /// frame's seq. Failure: null, `why` set, everything forgotten (held() == 0).
  snapshot_ptr apply(std::span<const std::uint8_t> frame, error* why = nullptr);

  /// Seq of the state held (0: none; the next frame must be full).
  std::uint64_t held() const noexcept { return held_; }

  /// Forgets everything (a new connection).
  void reset();

  /// Series held now.
  std::size_t series() const noexcept { return live_series_; }

private:
  struct slot {
    bool live = false;
    metric_kind kind = metric_kind::counter;
    std::uint32_t index = 0; // into cur_'s vector of that kind
    std::size_t bytes = 0;   // identity bytes charged
  };
  error apply_body(std::span<const std::uint8_t> frame);
  /// Frees a described id (false: not live).
  bool release(std::vector<slot>& slots, std::uint64_t id, std::size_t& live);
  /// Takes id for an identity of `cost` bytes, within the limits.
  error claim(std::vector<slot>& slots, std::uint64_t id, std::size_t max, std::size_t& live, std::uint8_t kind,
              std::size_t cost);

  limits lim_;
  std::uint64_t held_ = 0;
  snapshot cur_;
  std::vector<std::uint32_t> family_ids_;        // parallel to cur_.families
  std::array<std::vector<std::uint32_t>, 4> ids_; // parallel to cur_'s samples, per kind
  std::vector<slot> families_, series_;          // by id
  std::size_t live_series_ = 0, live_families_ = 0, identity_bytes_ = 0, buckets_ = 0;
};

} // namespace metron::remote::wire
