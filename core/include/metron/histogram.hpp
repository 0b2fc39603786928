// metron/histogram.hpp — a log-linear latency histogram, sharded per thread.
//
// Values land in the shared log-linear layout (bucket_layout.hpp: 64 sub-buckets
// per power of two, quantiles within 0.78%). Each shard (see detail/thread_slot.hpp)
// owns a cache-line-aligned block: one atomic count per bucket, and the sum, min and
// max of its values. A shard is allocated on its first record and then reused, so
// record() allocates nothing after a thread's first use of the histogram.
//
// record(v) by a thread with an exclusive slot (detail/thread_slot.hpp: it is the
// shard's only writer): relaxed load + store of the bucket count and of the sum, a
// load (and, once per block of 64 buckets, a fetch_or) marking the bucket's block
// as used so that snapshots read only used blocks, and min/max that are loaded,
// compared and stored only when they improve. Threads with shared slots record
// into overflow shards with the same steps as fetch_add and CAS loops. Non-negative
// doubles order like their bit patterns, so min/max compare integers. count is not
// stored: it is the sum of the bucket counts, always consistent with the buckets.

// Bad input: NaN, infinities and negative values change nothing and are counted
// in rejected(). -0.0 records as 0.
//
// Memory (bytes() reports it; tests/core/histogram_test.cpp bounds it): an idle
// histogram is sizeof(histogram) = 584 bytes on x86-64 (shard pointers, mutex,
// counters); each active shard adds sizeof(histogram::shard) = 41,088 bytes (5,122
// bucket counts + sum/min/max); active shards <= 2 * detail::shard_count() (the
// exclusive ones, 4 on a 2-CPU machine, at most 32, and as many overflow shards
// once more threads than that record at the same time). Locked mode adds one
// dense block of 41,024 bytes on its first locked record.
//
// Concurrency: record() and snapshot() are thread-safe. snapshot() reads the
// shards with relaxed loads: every record that happened-before it is included;
// records racing with it may be partly seen (e.g. in a bucket but not yet in sum);
// exact once writers are quiescent.
//
// Memory ordering: the buckets, sum, min and max are relaxed (pure statistics, they
// publish nothing). A new shard pointer is published with a release CAS and read
// with acquire loads, so a reader sees the shard's zeroed contents.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstddef>
#include <new>

#include "metron/bucket_layout.hpp"
#include "metron/detail/locked.hpp"
#include "metron/detail/mode.hpp"
#include "metron/detail/thread_slot.hpp"
#include "metron/histogram_snapshot.hpp"

namespace metron {

class histogram {
public:
  /// One shard's state; allocated on the shard's first record.
  struct alignas(detail::cache_line) shard {
    std::atomic<std::uint64_t> sum_bits{0};             // bits of a double
    std::atomic<std::uint64_t> min_bits{~std::uint64_t{0}}; // above any finite double's bits
    std::atomic<std::uint64_t> max_bits{0};
    std::atomic<std::uint64_t> used_blocks[bucket_layout::block_words] = {}; // see snapshot()
    alignas(detail::cache_line) std::atomic<std::uint64_t> buckets[bucket_layout::size] = {};

    /// Exclusive: the calling thread is this shard's only writer (plain relaxed
    /// load + store); otherwise atomic read-modify-writes (shared overflow shard).
    template <bool Exclusive>
    void record(double v, std::uint64_t bits) noexcept;
  };
  static_assert(alignof(shard) == detail::cache_line, "shards never share a cache line");
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  /// A standalone histogram, always lock-free.
  histogram() : histogram(&detail::default_lock_free) {}
  /// A histogram following a registry's mode flag.
  explicit histogram(const detail::mode_flag* lock_free)
    : lock_free_(lock_free), shards_in_use_(static_cast<std::uint32_t>(detail::shard_count())) {}
  ~histogram();

  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Records v (any unit; seconds by convention). NaN, inf, v < 0: rejected.
  void record(double v) noexcept {
    if (!(v >= 0.0 && v <= 1.7976931348623157e308)) [[unlikely]] // false for NaN too
      return reject();
    v += 0.0; // -0.0 becomes +0.0, so every accepted value has a clear sign bit
    // relaxed: see detail/mode.hpp.
    if (lock_free_->load(std::memory_order_relaxed)) [[likely]] { // relaxed: mode only picks a store; both are read
      // Exclusive slots own shard `slot`; shared slots use the overflow shards
      // [n, 2n) with atomic read-modify-writes (see detail/thread_slot.hpp).
      auto slot = detail::this_thread_slot();
      bool exclusive = slot < shards_in_use_;
      auto i = exclusive ? slot : shards_in_use_ + (slot & (shards_in_use_ - 1));
      shard* s = shards_[i].load(std::memory_order_acquire); // acquire: pairs with shard_slow's release CAS
      if (s == nullptr) [[unlikely]] {
        s = shard_slow(i);
        if (s == nullptr)
          return reject(); // out of memory: counted, never a crash
      }
      if (exclusive) [[likely]]
        s->record<true>(v, std::bit_cast<std::uint64_t>(v));
      else
        s->record<false>(v, std::bit_cast<std::uint64_t>(v));
    } else {
      locked_.record(v);
    }
  }

  // -- reading -----------------------------------------------------------------

  /// Merges every shard and the locked store into a self-contained snapshot.
  histogram_snapshot snapshot() const;

  /// Values rejected so far (NaN, inf, negative).
  std::uint64_t rejected() const noexcept {
    return rejected_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

  /// Shards allocated so far (one per shard any thread recorded into).
  std::size_t active_shards() const noexcept;

  /// Bytes this histogram owns now: itself, its shards and its locked store.
  std::size_t bytes() const noexcept;

private:
  shard* shard_slow(std::size_t i) noexcept;

  void reject() noexcept {
    rejected_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  }

  const detail::mode_flag* lock_free_;
  std::uint32_t shards_in_use_; // detail::shard_count(), cached off the hot path's call
  std::atomic<shard*> shards_[2 * detail::max_shards] = {}; // exclusive, then overflow
  std::atomic<std::uint64_t> rejected_{0};
  detail::locked_histogram locked_;
};

template <bool Exclusive>
inline void histogram::shard::record(double v, std::uint64_t bits) noexcept {
  // Every order below is relaxed: these are statistics that publish no other data;
  // snapshot() reads them relaxed and is exact once writers are quiescent.
  constexpr auto relaxed = std::memory_order_relaxed; // relaxed: statistics, publish no other data
  // Adds to a counter: plain load + store for the only writer, fetch_add otherwise.
  auto bump = [](std::atomic<std::uint64_t>& a) {
    if constexpr (Exclusive)
      a.store(a.load(relaxed) + 1, relaxed);
    else
      a.fetch_add(1, relaxed);
  };
  auto i = bucket_layout::index(v);
  // Mark the bucket's block used (a load that hits L1 after the first time: the word
  // shares a line with sum_bits, written below), so snapshots skip empty blocks.
  auto block = i >> bucket_layout::block_bits;
  auto& used = used_blocks[block / 64];
  auto bit = std::uint64_t{1} << (block % 64);
  if ((used.load(relaxed) & bit) == 0) [[unlikely]]
    used.fetch_or(bit, relaxed);
  bump(buckets[i]);
  auto sum = sum_bits.load(relaxed);
  if constexpr (Exclusive) {
    sum_bits.store(std::bit_cast<std::uint64_t>(std::bit_cast<double>(sum) + v), relaxed);
    if (bits < min_bits.load(relaxed))
      min_bits.store(bits, relaxed);
    if (bits > max_bits.load(relaxed))
      max_bits.store(bits, relaxed);
  } else {
    while (!sum_bits.compare_exchange_weak(sum, std::bit_cast<std::uint64_t>(std::bit_cast<double>(sum) + v),
                                           relaxed, relaxed)) {
    }
    auto lo = min_bits.load(relaxed);
    while (bits < lo && !min_bits.compare_exchange_weak(lo, bits, relaxed, relaxed)) {
    }
    auto hi = max_bits.load(relaxed);
    while (bits > hi && !max_bits.compare_exchange_weak(hi, bits, relaxed, relaxed)) {
    }
  }
}

} // namespace metron
