// metron/counter.hpp — monotonic and up/down counters.
//
// A counter is an integer striped over cache-line cells, one per shard (see
// detail/striped.hpp): add() is a relaxed load + store on the calling thread's own
// cell (a fetch_add on an overflow cell for threads beyond the shard count),
// value() sums the cells. In locked mode (registry::set_lock_free(false)) add()
// goes to a mutex-guarded integer instead; value() always sums both.
//
// Concurrency: add() and value() may be called from any thread at any time.
// value() is a relaxed sum of the shards: it includes every add that happened-before
// the call, and is exact once writers are quiescent.
//
// Memory ordering: relaxed throughout; a counter publishes no other data.
//
// Memory: sizeof(counter) = 88 bytes plus one 64-byte cell per shard
// (detail::shard_count(): 4 on a 2-CPU machine, so 344 bytes; at most 32 shards),
// and as many overflow cells once more threads than shards add at the same time.
//
// Hot path: add() is noexcept, lock-free (in lock-free mode), makes no system call
// and never allocates (cells are allocated when the counter is created).
#pragma once

#include <cstdint>

#include "metron/detail/locked.hpp"
#include "metron/detail/mode.hpp"
#include "metron/detail/striped.hpp"

namespace metron {

template <class T>
class basic_counter {
public:
  using value_type = T;

  /// A standalone counter, always lock-free.
  basic_counter() : basic_counter(&detail::default_lock_free) {}
  /// A counter that follows a registry's mode flag.
  explicit basic_counter(const detail::mode_flag* lock_free) : lock_free_(lock_free) {}

  basic_counter(const basic_counter&) = delete;
  basic_counter& operator=(const basic_counter&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Adds n (for a monotonic counter, n is unsigned: it can only grow).
  void add(T n = 1) noexcept {
    // relaxed: see detail/mode.hpp; either store is summed by value().
    if (lock_free_->load(std::memory_order_relaxed)) [[likely]] // relaxed: mode only picks a store; both are summed
      cells_.add(n);
    else
      locked_.add(n);
  }

  // -- reading -----------------------------------------------------------------

  /// The total of every add so far (see the concurrency contract above).
  T value() const noexcept { return cells_.read() + locked_.read(); }

  /// Bytes this counter owns.
  std::size_t bytes() const noexcept { return sizeof(*this) - sizeof(cells_) + cells_.bytes(); }

private:
  const detail::mode_flag* lock_free_;
  detail::striped<T> cells_;
  detail::locked_integer<T> locked_;
};

/// A monotonic counter (Prometheus "counter"): add(n) with n >= 0.
using counter = basic_counter<std::uint64_t>;

/// An up/down counter: add(n) with a signed n (e.g. in-flight requests).
using updown_counter = basic_counter<std::int64_t>;

} // namespace metron
