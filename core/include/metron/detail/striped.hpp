// metron/detail/striped.hpp — an integer striped over cache-line cells.
//
// One cell per shard (see thread_slot.hpp), each alignas(cache_line), so threads
// holding different slots write different lines. add() is one relaxed fetch_add on
// the caller's cell; read() sums the cells.
//
// Concurrency: add() and read() are thread-safe. read() is a relaxed sum of the
// cells: every add that happened-before read() is included, concurrent adds may or
// may not be; exact once writers are quiescent.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
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

  striped() : mask_(shard_mask()), cells_(new cell[shard_mask() + 1]) {}

  // -- recording ---------------------------------------------------------------

  void add(T n) noexcept {
    // relaxed: a pure count; no other memory is published through it, and readers
    // only need each add to be counted once (atomicity), not ordered.
    cells_[this_thread_slot() & mask_].value.fetch_add(n, std::memory_order_relaxed); // relaxed: a pure count, publishes nothing
  }

  // -- reading -----------------------------------------------------------------

  T read() const noexcept {
    T sum = 0;
    for (std::size_t i = 0; i <= mask_; ++i)
      sum += cells_[i].value.load(std::memory_order_relaxed); // relaxed: see add()
    return sum;
  }

  /// Bytes this object owns (itself plus its cells).
  std::size_t bytes() const noexcept { return sizeof(*this) + (mask_ + 1) * sizeof(cell); }

private:
  std::size_t mask_;
  std::unique_ptr<cell[]> cells_;
};

} // namespace metron::detail
