// metron/detail/striped.hpp — an integer striped over cache-line cells.
//
// One cell per shard (see thread_slot.hpp), each alignas(cache_line), so threads
// holding different slots write different lines. A thread with an exclusive slot
// is its cell's only writer and adds with a relaxed load and store (no locked
// instruction); threads with shared slots fetch_add into a separate set of overflow
// cells, allocated on the first such add. read() sums every cell.
//
// Concurrency: add() and read() are thread-safe. read() is a relaxed sum of the
// cells: every add that happened-before read() is included, concurrent adds may or
// may not be; exact once writers are quiescent.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

#include "metron/detail/thread_slot.hpp"

namespace metron::detail {

template <class T>
class striped {
public:
  static_assert(std::is_integral_v<T>);

  struct alignas(cache_line) cell {
    std::atomic<T> value{0};
  };
  static_assert(sizeof(cell) == cache_line, "one cell per cache line");
  static_assert(alignof(cell) == cache_line, "cells start on a cache line");
  static_assert(std::atomic<T>::is_always_lock_free);

  striped() : shards_(static_cast<std::uint32_t>(shard_count())), cells_(new cell[shard_count()]) {}
  ~striped() { delete[] overflow_.load(std::memory_order_relaxed); } // relaxed: no concurrent use at destruction

  // -- recording ---------------------------------------------------------------

  void add(T n) noexcept {
    auto slot = this_thread_slot();
    if (slot < shards_) [[likely]] {
      auto& v = cells_[slot].value; // this thread is the cell's only writer
      v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); // relaxed: single writer, a pure count
    } else {
      add_shared(slot, n);
    }
  }

  // -- reading -----------------------------------------------------------------

  T read() const noexcept {
    T sum = spill_.load(std::memory_order_relaxed); // relaxed: a pure count
    for (std::size_t i = 0; i < shards_; ++i)
      sum += cells_[i].value.load(std::memory_order_relaxed); // relaxed: a pure count
    if (const cell* o = overflow_.load(std::memory_order_acquire)) // acquire: pairs with overflow_slow's release
      for (std::size_t i = 0; i < shards_; ++i)
        sum += o[i].value.load(std::memory_order_relaxed); // relaxed: a pure count
    return sum;
  }

  /// Bytes this object owns (itself plus its cells).
  std::size_t bytes() const noexcept {
    bool overflow = overflow_.load(std::memory_order_relaxed) != nullptr; // relaxed: nullness only
    return sizeof(*this) + shards_ * sizeof(cell) * (overflow ? 2 : 1);
  }

private:
  void add_shared(std::uint32_t slot, T n) noexcept {
    cell* o = overflow_.load(std::memory_order_acquire); // acquire: pairs with overflow_slow's release
    if (o == nullptr) [[unlikely]]
      o = overflow_slow();
    auto& v = o ? o[slot & (shards_ - 1)].value : spill_;
    v.fetch_add(n, std::memory_order_relaxed); // relaxed: a pure count, atomicity only
  }

  /// Allocates the overflow cells (a shared slot's first add); nullptr if out of memory.
  cell* overflow_slow() noexcept {
    cell* fresh = new (std::nothrow) cell[shards_];
    if (fresh == nullptr)
      return nullptr; // add_shared falls back to spill_
    cell* expected = nullptr;
    if (overflow_.compare_exchange_strong(expected, fresh, std::memory_order_release, // release: publishes the zeroed cells
                                          std::memory_order_acquire)) // acquire: we use the winner's cells
      return fresh;
    delete[] fresh;
    return expected;
  }

  std::uint32_t shards_;
  std::unique_ptr<cell[]> cells_;            // one per exclusive slot
  std::atomic<cell*> overflow_{nullptr};     // shared slots, allocated on first use
  std::atomic<T> spill_{0};                  // shared slots when overflow cells could not be allocated
};

} // namespace metron::detail
