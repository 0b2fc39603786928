// metron/detail/histogram_shard.hpp — one thread's part of a histogram: sparse
// bucket blocks, allocated as values land in them.
//
// The layout (bucket_layout.hpp) has 81 blocks of 64 buckets (one binade each). A
// shard keeps a table of 81 block pointers and allocates a block on the first
// record into it, so a thread recording a distribution that spans b binades costs
// sizeof(shard) + b blocks, not the whole layout: 9 binades (a log-normal latency,
// sigma 1) is about 3 KiB instead of 41 KiB.
//
// Narrow counts with an exact spill: a block written by one thread (an exclusive
// slab, or the locked store under its mutex) starts *narrow*, 64 x uint32 = 256
// bytes. The one writer that would overflow a uint32 count *widens* the block: it
// copies the counts into a 64 x uint64 block, adds its record there, and publishes
// the wide block (the pointer's low bit says which kind it is). The narrow block is
// kept (freed with the shard), so a reader still reading it sees values that never
// exceed the wide ones: counts stay monotonic and exact. Blocks of shared shards
// (several writers, fetch_add) are wide from the start, since a copy could miss a
// concurrent add.
//
// Each block keeps a mask of its non-zero buckets, set by the record that makes a
// count non-zero, so a snapshot reads only the buckets that hold values (a
// distribution of a few hundred values touches a fraction of its blocks' buckets).
//
// Concurrency: record<true> needs a single writer at a time (ordered by the slot
// hand-over or a mutex); record<false> any number of writers. read_* may run at any
// time: relaxed loads of counts (statistics), exact once writers are quiescent.
//
// Memory ordering: a block pointer is published with a release store (CAS for
// shared shards) and read with acquire loads, so a reader sees the block's zeroed
// or copied counts. Counts, sum, min and max are relaxed: statistics that publish
// nothing else.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>

#include "metron/bucket_layout.hpp"

namespace metron::detail {

struct exemplar_queue; // core/src/exemplar_queue.hpp: the shard's exemplar hand-off

// Cache-line aligned: the first line (sum, min, max), written by every record, never
// shares a line with another thread's data.
class alignas(64) histogram_shard {
public:
  static constexpr std::size_t block_size = std::size_t{1} << bucket_layout::block_bits; // 64 buckets

  struct narrow_block {
    std::atomic<std::uint64_t> nonzero{0};          // bit k: counts[k] > 0 (readers visit only those)
    std::atomic<std::uint32_t> counts[block_size]; // value-initialised: zero
  };
  struct wide_block {
    std::atomic<std::uint64_t> nonzero{0};
    std::atomic<std::uint64_t> counts[block_size];
    narrow_block* replaced = nullptr; // the narrow block this one widened, freed with it
    ~wide_block() { delete replaced; }
  };
  static_assert(alignof(narrow_block) >= 2 && alignof(wide_block) >= 2, "the low bit tags wide blocks");

  histogram_shard() = default;
  ~histogram_shard();
  histogram_shard(const histogram_shard&) = delete;
  histogram_shard& operator=(const histogram_shard&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Records a validated value (finite, >= 0, sign bit clear) whose bits are
  /// `bits`. Exclusive: the caller is the only writer now. false: out of memory
  /// for a block (nothing recorded; the caller counts it as rejected).
  template <bool Exclusive>
  bool record(double v, std::uint64_t bits) noexcept;

  // -- reading -----------------------------------------------------------------

  /// Calls f(first_bucket_index, nonzero_mask, count_of(k)) for each allocated
  /// block, where bit k of nonzero_mask says bucket first + k is non-zero and
  /// count_of(k) reads it (k < 64).
  template <class F>
  void for_each_block(F&& f) const;

  /// Asks the cache for the lines a for_each_block() will read, without waiting:
  /// stage 0 the header (allocated blocks), stage 1 the block table entries in use,
  /// stage 2 the blocks themselves. A reader of many shards issues one stage for all
  /// of them before the next, so their cache misses overlap instead of queueing.
  void prefetch(int stage) const noexcept;

  double sum() const noexcept {
    return std::bit_cast<double>(sum_bits_.load(std::memory_order_relaxed)); // relaxed: statistics
  }
  /// Bits of the smallest value (all ones when nothing was recorded).
  std::uint64_t min_bits() const noexcept { return min_bits_.load(std::memory_order_relaxed); } // relaxed: statistics
  std::uint64_t max_bits() const noexcept { return max_bits_.load(std::memory_order_relaxed); } // relaxed: statistics

  /// Bytes this shard owns (itself, its blocks and its exemplar queue).
  std::size_t bytes() const noexcept;

  // -- exemplars (histogram.cpp) -------------------------------------------------

  /// The queue of exemplars recorded through this shard: null until the first one,
  /// then set once (release store or CAS, read with acquire) and freed with the shard.
  std::atomic<exemplar_queue*>& exemplars() const noexcept { return exemplars_; }

private:
  friend struct histogram_shard_test_access; // tests/core/histogram_test.cpp: presets a count near 2^32

  static constexpr std::uintptr_t wide_tag = 1;

  std::uintptr_t allocate_slow(std::size_t block, bool wide) noexcept;
  /// Sets bit k of a single writer's nonzero mask.
  static void mark(std::atomic<std::uint64_t>& nonzero, std::size_t k) noexcept {
    nonzero.store(nonzero.load(std::memory_order_relaxed) | (std::uint64_t{1} << k), // relaxed load: our own bits
                  std::memory_order_release); // release: a reader that sees the bit (acquire in for_each_block) sees the count
  }
  bool widen_slow(std::size_t block, std::size_t k) noexcept;
  /// Calls f(b) for each allocated block b, in index order. Acquire: a block whose
  /// bit is seen has its pointer set (allocate_slow publishes the bit after it).
  template <class F>
  void for_each_allocated(F&& f) const;

  std::atomic<std::uint64_t> sum_bits_{0};               // bits of a double
  std::atomic<std::uint64_t> min_bits_{~std::uint64_t{0}}; // above any finite double's bits
  std::atomic<std::uint64_t> max_bits_{0};
  // Blocks allocated so far (bit b: blocks_[b] is set), so readers visit only those.
  std::atomic<std::uint64_t> allocated_[bucket_layout::block_words] = {};
  std::atomic<std::uintptr_t> blocks_[bucket_layout::blocks] = {}; // narrow_block* or (wide_block* | wide_tag)
  mutable std::atomic<exemplar_queue*> exemplars_{nullptr}; // fits the padding: sizeof stays 704 bytes
};

template <bool Exclusive>
inline bool histogram_shard::record(double v, std::uint64_t bits) noexcept {
  constexpr auto relaxed = std::memory_order_relaxed; // relaxed: statistics, publish no other data
  auto i = bucket_layout::index_of_bits(bits);
  auto b = i >> bucket_layout::block_bits;
  auto k = i & (block_size - 1);
  auto p = blocks_[b].load(std::memory_order_acquire); // acquire: pairs with the release publishing a block (ours or another writer's)
  if (p == 0) [[unlikely]] {
    p = allocate_slow(b, !Exclusive);
    if (p == 0)
      return false;
  }
  if constexpr (Exclusive) {
    if ((p & wide_tag) == 0) [[likely]] {
      auto& c = reinterpret_cast<narrow_block*>(p)->counts[k];
      std::uint32_t n = c.load(relaxed) + 1; // 0: the count was UINT32_MAX
      if (n > 1) [[likely]] {
        c.store(n, relaxed);
      } else if (n == 1) { // first value in this bucket: let readers find it
        c.store(n, relaxed);
        mark(reinterpret_cast<narrow_block*>(p)->nonzero, k);
      } else if (!widen_slow(b, k)) {
        return false;
      }
    } else {
      auto* blk = reinterpret_cast<wide_block*>(p & ~wide_tag);
      auto n = blk->counts[k].load(relaxed);
      blk->counts[k].store(n + 1, relaxed);
      if (n == 0) [[unlikely]]
        mark(blk->nonzero, k);
    }
    sum_bits_.store(std::bit_cast<std::uint64_t>(std::bit_cast<double>(sum_bits_.load(relaxed)) + v), relaxed);
    if (bits < min_bits_.load(relaxed))
      min_bits_.store(bits, relaxed);
    if (bits > max_bits_.load(relaxed))
      max_bits_.store(bits, relaxed);
  } else {
    auto* blk = reinterpret_cast<wide_block*>(p & ~wide_tag);
    if (blk->counts[k].fetch_add(1, relaxed) == 0) [[unlikely]]
      blk->nonzero.fetch_or(std::uint64_t{1} << k, std::memory_order_release); // release: pairs with for_each_block's acquire
    auto sum = sum_bits_.load(relaxed);
    while (!sum_bits_.compare_exchange_weak(sum, std::bit_cast<std::uint64_t>(std::bit_cast<double>(sum) + v),
                                            relaxed, relaxed)) {
    }
    auto lo = min_bits_.load(relaxed);
    while (bits < lo && !min_bits_.compare_exchange_weak(lo, bits, relaxed, relaxed)) {
    }
    auto hi = max_bits_.load(relaxed);
    while (bits > hi && !max_bits_.compare_exchange_weak(hi, bits, relaxed, relaxed)) {
    }
  }
  return true;
}

template <class F>
inline void histogram_shard::for_each_allocated(F&& f) const {
  for (std::size_t w = 0; w < bucket_layout::block_words; ++w)
    for (auto bits = allocated_[w].load(std::memory_order_acquire); // acquire: pairs with allocate_slow's release fetch_or
         bits != 0; bits &= bits - 1)
      f(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
}

inline void histogram_shard::prefetch(int stage) const noexcept {
  if (stage == 0) {
    __builtin_prefetch(this);
    return;
  }
  for_each_allocated([&](std::size_t b) {
    if (stage == 1) {
      __builtin_prefetch(&blocks_[b]);
      return;
    }
    auto p = blocks_[b].load(std::memory_order_relaxed); // relaxed: a hint; non-null once the bit is seen (for_each_allocated)
    auto* base = reinterpret_cast<const char*>(p & ~wide_tag);
    std::size_t size = (p & wide_tag) != 0 ? sizeof(wide_block) : sizeof(narrow_block);
    for (std::size_t off = 0; off < size; off += 64)
      __builtin_prefetch(base + off);
  });
}

template <class F>
inline void histogram_shard::for_each_block(F&& f) const {
  for_each_allocated([&](std::size_t b) {
    auto p = blocks_[b].load(std::memory_order_acquire); // acquire: pairs with the release publishing the block
    auto first = static_cast<std::uint32_t>(b << bucket_layout::block_bits);
    auto visit = [&](auto* blk) {
      f(first, blk->nonzero.load(std::memory_order_acquire), // acquire: pairs with mark's release
        [blk](std::size_t k) -> std::uint64_t { return blk->counts[k].load(std::memory_order_relaxed); }); // relaxed: statistics
    };
    if ((p & wide_tag) == 0)
      visit(reinterpret_cast<const narrow_block*>(p));
    else
      visit(reinterpret_cast<const wide_block*>(p & ~wide_tag));
  });
}

} // namespace metron::detail
