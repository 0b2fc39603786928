// metron/exemplar.hpp — a trace id (and a few labels) attached to one recorded value.
//
// histogram::record(v, ex) records v exactly as record(v) does and hands
// {value, wall time, ex} to the snapshot side through the recording thread's bounded
// lock-free queue (histogram.hpp). Snapshots carry, per histogram, the latest
// exemplar per binade of the bucket layout (exemplar_sample); the OpenMetrics
// exposition puts them on `_bucket` lines as `# {trace_id="..."} value timestamp`.
//
// An exemplar is a fixed-size, trivially copyable value (no allocation, copied into
// the queue with memcpy): a label set of at most max_labels pairs whose names and
// values together take at most max_bytes (128) bytes, the OpenMetrics limit (which
// counts UTF-8 characters; bytes are never fewer, so this is at least as strict).
//
// Errors: construction and add() never throw and never allocate. A label that does
// not fit (too many labels, more than max_bytes in all), has an invalid name
// ([a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed), a repeated name or a value that is not
// valid UTF-8 makes the exemplar invalid (valid() false, its labels cleared);
// histogram::record(v, ex) still records v and counts the invalid exemplar in
// exemplars_dropped(). Validation happens here, where the caller builds the
// exemplar, not on the recording path.
//
// Concurrency: a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace metron {

class exemplar {
public:
  /// Label pairs an exemplar holds at most.
  static constexpr std::size_t max_labels = 4;
  /// Bytes of all label names and values together (OpenMetrics: 128 characters).
  static constexpr std::size_t max_bytes = 128;

  /// An exemplar without labels (valid; OpenMetrics allows an empty label set).
  exemplar() noexcept = default;
  /// An exemplar with the label trace_id="<trace_id>".
  explicit exemplar(std::string_view trace_id) noexcept { add("trace_id", trace_id); }

  /// Adds the label name="value" (see the file comment for what makes it invalid).
  exemplar& add(std::string_view name, std::string_view value) noexcept;

  /// False if a label was refused (the exemplar then has no labels).
  bool valid() const noexcept { return valid_; }
  /// Number of labels.
  std::size_t size() const noexcept { return size_; }
  std::string_view name(std::size_t i) const noexcept { return {text_ + start(i), name_len_[i]}; }
  std::string_view value(std::size_t i) const noexcept {
    return {text_ + start(i) + name_len_[i], value_len_[i]};
  }
  /// The value of the label trace_id, empty if there is none.
  std::string_view trace_id() const noexcept;

  friend bool operator==(const exemplar& a, const exemplar& b) noexcept;

private:
  std::size_t start(std::size_t i) const noexcept {
    std::size_t s = 0;
    for (std::size_t j = 0; j < i; ++j)
      s += name_len_[j] + value_len_[j];
    return s;
  }

  char text_[max_bytes] = {}; // name0 value0 name1 value1 ..., no separators
  std::uint8_t name_len_[max_labels] = {};
  std::uint8_t value_len_[max_labels] = {};
  std::uint8_t size_ = 0;
  std::uint8_t used_ = 0; // bytes of text_ in use
  bool valid_ = true;
};

static_assert(std::is_trivially_copyable_v<exemplar>, "exemplars are copied into lock-free queues");
static_assert(exemplar::max_bytes <= 255, "lengths are stored in one byte");

/// An exemplar as a snapshot carries it: the value it was recorded with, when (ns
/// since the epoch, system_clock, read by the recording thread), and the index of the
/// layout block (binade, bucket_layout::block_bits) the value fell into, which is what
/// "latest per bucket" is kept per.
struct exemplar_sample {
  std::uint32_t block = 0;
  double value = 0;
  std::int64_t wall_ns = 0;
  metron::exemplar labels;
  friend bool operator==(const exemplar_sample&, const exemplar_sample&) = default;
};

} // namespace metron
