// metron/histogram.hpp — a log-linear latency histogram, sharded per thread.
//
// Values land in the shared log-linear layout (bucket_layout.hpp: 64 sub-buckets
// per power of two, quantiles within 0.78%). A histogram owns one cell id
// (detail/slab.hpp); a recording thread's cell of that id points to the thread's
// shard (detail/histogram_shard.hpp): sparse 64-bucket blocks allocated as values
// land in them, narrow (uint32) counts that widen exactly, and the sum, min and max
// of the thread's values. The shard is allocated on the thread's first record, a
// block on the first record into its binade; after that record() never allocates.
//
// record(v) by a thread with an exclusive slab (it is the shard's only writer):
// relaxed load + store of the bucket count and of the sum, min/max loaded, compared
// and stored only when they improve. Threads on shared slabs record into shared
// shards with fetch_add and CAS loops. Non-negative doubles order like their bit
// patterns, so min/max compare integers. count is not stored: it is the sum of the
// bucket counts, always consistent with the buckets.
//
// Bad input: NaN, infinities and negative values change nothing and are counted
// in rejected(); so is a record that finds no memory for its shard or block. -0.0
// records as 0.
//
// Exemplars (metron/exemplar.hpp): record(v, ex) records v as record(v) does, then
// reads the wall clock (system_clock: a vDSO call on Linux, no syscall) and pushes
// {v, time, ex} into the bounded lock-free queue of the thread's shard
// (core/src/exemplar_queue.hpp: boost::lockfree::spsc_queue, 16 entries, allocated
// on the thread's first exemplar into this histogram, 2,800 bytes). It never
// blocks: a full queue, an invalid exemplar, a shared-slab shard whose queue another
// thread is pushing into, or no memory for the queue drop the exemplar and count it
// (exemplars_dropped()); the value is recorded in every case. snapshot() drains every
// queue (under the histogram's exemplar mutex, striped by id: one consumer per queue) into the
// histogram's latest exemplar per layout block (binade), which it keeps, so two
// readers never take exemplars from each other; the snapshot carries a copy.
// record(v) without an exemplar is unchanged (bench/recording_bench.cpp compares).
//
// Memory (bytes() reports it; tests/core/histogram_test.cpp and bench/metron_memory
// measure it): an idle histogram is sizeof(histogram) (104 bytes on x86-64); each
// recording thread adds 8 bytes in its slab, sizeof(histogram_shard) (704 bytes)
// and 264 bytes per binade it recorded into (+528 once a bucket passed 2^32 counts).
// Nothing depends on the number of CPUs. Locked mode keeps one more shard, behind a
// mutex.
//
// Concurrency: record() and snapshot() are thread-safe. snapshot() reads the
// shards with relaxed loads: every record that happened-before it is included;
// records racing with it may be partly seen (e.g. in a bucket but not yet in sum);
// exact once writers are quiescent.
//
// Memory ordering: a new shard pointer is published in the thread's cell with a
// release store (CAS in a shared slab) and read with acquire loads, so a reader
// sees the shard's initial contents; blocks likewise (histogram_shard.hpp).
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstddef>

#include <vector>

#include "metron/bucket_layout.hpp"
#include "metron/detail/histogram_shard.hpp"
#include "metron/detail/locked.hpp"
#include "metron/detail/mode.hpp"
#include "metron/detail/slab.hpp"
#include "metron/exemplar.hpp"
#include "metron/histogram_snapshot.hpp"

namespace metron {

class histogram {
public:
  using shard = detail::histogram_shard;

  /// A standalone histogram, always lock-free. Throws std::length_error when the
  /// process already has detail::max_cells counters and histograms.
  histogram() : histogram(&detail::default_lock_free) {}
  /// A histogram following a registry's mode flag.
  explicit histogram(const detail::mode_flag* lock_free)
    : lock_free_(lock_free), id_(detail::acquire_cell_id()) {}
  ~histogram();

  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Records v (any unit; seconds by convention). NaN, inf, v < 0: rejected.
  void record(double v) noexcept {
    // One integer compare: every negative (sign bit set), inf and NaN has bits at or
    // above +inf's. -0.0 is the one such value recorded (as +0.0, so every accepted
    // value has a clear sign bit).
    auto bits = std::bit_cast<std::uint64_t>(v);
    if (bits >= inf_bits) [[unlikely]] {
      if (refused(bits))
        return reject();
      bits = 0;
      v = 0.0;
    }
    if (lock_free_->load(std::memory_order_relaxed)) [[likely]] { // relaxed: mode only picks a store; both are read
      detail::slab* s = detail::this_thread_slab();
      detail::cell* c = s->get(id_);
      shard* sh = c != nullptr ? reinterpret_cast<shard*>(c->load(std::memory_order_acquire)) : nullptr; // acquire: pairs with shard_slow's release
      if (sh == nullptr) [[unlikely]] {
        sh = shard_slow(c, s->exclusive());
        if (sh == nullptr)
          return reject(); // out of memory: counted, never a crash
      }
      bool ok = s->exclusive() ? sh->record<true>(v, bits) : sh->record<false>(v, bits);
      if (!ok) [[unlikely]]
        reject();
    } else if (!locked_.record(v, bits)) {
      reject();
    }
  }

  /// Records v as record(v) does and attaches ex to it (see the file comment): never
  /// blocks, never allocates after the thread's first exemplar into this histogram.
  /// A rejected v carries no exemplar; a dropped exemplar is counted.
  void record(double v, const exemplar& ex) noexcept {
    record(v);
    offer_exemplar(v, ex);
  }

  // -- reading -----------------------------------------------------------------

  /// Exemplars dropped so far (queue full, invalid, contended shared shard, no memory).
  std::uint64_t exemplars_dropped() const noexcept {
    return exemplars_dropped_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

  /// Merges every shard and the locked store into a self-contained snapshot, and
  /// drains the exemplar queues into it (latest exemplar per layout block).
  /// Visits the slabs holding its chunk (detail::for_each_cell); cost proportional to
  /// the blocks the recording threads used.
  histogram_snapshot snapshot() const;

  /// Values rejected so far (NaN, inf, negative, out of memory).
  std::uint64_t rejected() const noexcept {
    return rejected_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

  /// Shards allocated so far (one per thread slab that recorded into this histogram).
  std::size_t active_shards() const noexcept;

  /// Bytes this histogram owns now: itself, its slab cells, shards and blocks, and
  /// its locked store.
  std::size_t bytes() const noexcept;

private:
  static constexpr std::uint64_t inf_bits = 0x7ff0'0000'0000'0000;           // +inf
  static constexpr std::uint64_t negative_zero_bits = 0x8000'0000'0000'0000; // -0.0
  /// Whether record() refuses the value with these bits: NaN, inf, negative (not -0.0).
  static constexpr bool refused(std::uint64_t bits) noexcept {
    return bits >= inf_bits && bits != negative_zero_bits;
  }

  shard* shard_slow(detail::cell* c, bool exclusive) noexcept;
  void offer_exemplar(double v, const exemplar& ex) noexcept;
  /// Moves every exemplar queued in `shards` and the locked store into latest_; the
  /// caller holds exemplar_mutex(id_) (histogram.cpp: one of 64 process-wide mutexes,
  /// striped by cell id, so the histogram stays within two cache lines).
  void drain_exemplars_locked(const std::vector<const shard*>& shards) const;

  void reject() noexcept {
    rejected_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  }

  const detail::mode_flag* lock_free_;
  detail::cell_id id_;
  std::atomic<std::uint64_t> rejected_{0};
  detail::locked_histogram locked_;
  std::atomic<std::uint64_t> exemplars_dropped_{0};
  mutable std::vector<exemplar_sample> latest_; // by block, ascending; guarded by exemplar_mutex(id_)
};

} // namespace metron
