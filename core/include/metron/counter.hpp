// metron/counter.hpp — monotonic and up/down counters.
//
// A counter owns one cell id (detail/slab.hpp); each recording thread adds into its
// own 8-byte cell of that id in its own slab: a relaxed load + store (a fetch_add
// in a shared slab, for threads beyond detail::max_slots or exiting). value() sums
// the cells of the slabs that hold the id's chunk. In locked mode (registry::set_lock_free(false)) add()
// goes to a mutex-guarded integer instead; value() always sums both.
//
// Arithmetic is modulo 2^64: a counter that passes 2^64 - 1 wraps to 0 (at 10^9
// adds per second that takes 584 years); an up/down counter is a two's-complement
// int64 that wraps the same way, never undefined behaviour (cells are unsigned).
//
// Concurrency: add() and value() may be called from any thread at any time.
// value() is a relaxed sum of the cells: it includes every add that happened-before
// the call, and is exact once writers are quiescent.
//
// Memory ordering: relaxed throughout; a counter publishes no other data.
//
// Memory: sizeof(counter) (72 bytes on x86-64) plus 8 bytes in the slab of each
// thread that adds to it; nothing depends on the number of CPUs.
//
// Hot path: add() is noexcept, lock-free (in lock-free mode), makes no system call
// and allocates only when a thread's slab has no chunk yet for the counter's id
// (once per thread per 512 metric ids).
#pragma once

#include <cstdint>

#include "metron/detail/locked.hpp"
#include "metron/detail/mode.hpp"
#include "metron/detail/slab.hpp"

namespace metron {

template <class T>
class basic_counter {
public:
  using value_type = T;

  /// A standalone counter, always lock-free. Throws std::length_error when the
  /// process already has detail::max_cells counters and histograms.
  basic_counter() : basic_counter(&detail::default_lock_free) {}
  /// A counter that follows a registry's mode flag.
  explicit basic_counter(const detail::mode_flag* lock_free)
    : lock_free_(lock_free), id_(detail::acquire_cell_id()) {}
  ~basic_counter() { detail::release_cell_id(id_); }

  basic_counter(const basic_counter&) = delete;
  basic_counter& operator=(const basic_counter&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Adds n (for a monotonic counter, n is unsigned: it can only grow).
  void add(T n = 1) noexcept {
    auto u = static_cast<std::uint64_t>(n); // two's complement: signed adds wrap, defined
    if (lock_free_->load(std::memory_order_relaxed)) [[likely]] { // relaxed: mode only picks a store; both are summed
      detail::slab* s = detail::this_thread_slab();
      if (detail::cell* c = s->get(id_)) [[likely]] {
        if (s->exclusive()) [[likely]] // this thread is the cell's only writer
          c->store(c->load(std::memory_order_relaxed) + u, std::memory_order_relaxed); // relaxed: single writer, a pure count
        else
          c->fetch_add(u, std::memory_order_relaxed); // relaxed: a pure count, atomicity only
        return;
      }
      spill_.fetch_add(u, std::memory_order_relaxed); // out of memory for a chunk; relaxed: a pure count
    } else {
      locked_.add(u);
    }
  }

  // -- reading -----------------------------------------------------------------

  /// The total of every add so far (see the concurrency contract above). Visits the
  /// slabs holding its chunk: O(threads that recorded into one of its 512 neighbours).
  T value() const noexcept {
    std::uint64_t sum = spill_.load(std::memory_order_relaxed) + locked_.read(); // relaxed: a pure count
    detail::for_each_cell(id_, [&](const detail::cell& c) {
      sum += c.load(std::memory_order_relaxed); // relaxed: a pure count
    });
    return static_cast<T>(sum);
  }

  /// Bytes this counter owns: the object and one cell per slab that has its chunk.
  std::size_t bytes() const noexcept {
    std::size_t n = sizeof(*this);
    detail::for_each_cell(id_, [&](const detail::cell&) { n += sizeof(detail::cell); });
    return n;
  }

  /// The counter's cell id (diagnostics).
  detail::cell_id id() const noexcept { return id_; }

private:
  const detail::mode_flag* lock_free_;
  detail::cell_id id_;
  std::atomic<std::uint64_t> spill_{0}; // adds made when a slab chunk could not be allocated
  detail::locked_integer<std::uint64_t> locked_;
};

/// A monotonic counter (Prometheus "counter"): add(n) with n >= 0.
using counter = basic_counter<std::uint64_t>;

/// An up/down counter: add(n) with a signed n (e.g. in-flight requests).
using updown_counter = basic_counter<std::int64_t>;

} // namespace metron
