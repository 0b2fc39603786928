// metron/gauge.hpp — a double that is set or adjusted.
//
// The value lives as the bits of a double in one std::atomic<uint64_t>
// (std::bit_cast): set() is a store, add() a compare-and-swap loop on the bits.
// A gauge is one value, not striped: the last set wins, so there is nothing to sum.
// In locked mode (registry::set_lock_free(false)) each call takes the gauge's mutex
// around the same cell, so switching modes never loses or forks the value.
//
// Bad input: NaN and infinities are not stored; they are counted in rejected(). An
// add() whose result would not be finite (e.g. DBL_MAX + DBL_MAX) is rejected the
// same way: the value stays as it was and the attempt is counted.
//
// Concurrency: set(), add() and value() are thread-safe; adds are never lost
// (the CAS retries). value() returns the latest value in the cell's modification
// order as seen by the caller.
//
// Memory ordering: relaxed; a gauge publishes no other data.
#pragma once

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "metron/detail/mode.hpp"

namespace metron {

class gauge {
public:
  gauge() : gauge(&detail::default_lock_free) {}
  explicit gauge(const detail::mode_flag* lock_free) : lock_free_(lock_free) {}

  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Replaces the value. NaN/inf are rejected (counted, value unchanged).
  void set(double v) noexcept {
    if (!std::isfinite(v)) [[unlikely]]
      return reject();
    // relaxed: see detail/mode.hpp.
    if (lock_free_->load(std::memory_order_relaxed)) [[likely]] { // relaxed: mode only picks the locking, same cell
      bits_.store(std::bit_cast<std::uint64_t>(v), std::memory_order_relaxed); // relaxed: publishes nothing else
    } else {
      std::lock_guard<std::mutex> guard{mutex_};
      bits_.store(std::bit_cast<std::uint64_t>(v), std::memory_order_relaxed); // relaxed: the mutex orders writers
    }
  }

  /// Adds d (may be negative). NaN/inf, or a sum that would overflow to an
  /// infinity, are rejected (counted, value unchanged).
  void add(double d) noexcept {
    if (!std::isfinite(d)) [[unlikely]]
      return reject();
    // relaxed: see detail/mode.hpp.
    if (lock_free_->load(std::memory_order_relaxed)) [[likely]] { // relaxed: mode only picks the locking, same cell
      add_cas(d);
    } else {
      std::lock_guard<std::mutex> guard{mutex_};
      add_cas(d); // still a CAS: a lock-free writer may race a mode switch
    }
  }

  // -- reading -----------------------------------------------------------------

  double value() const noexcept {
    return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); // relaxed: publishes nothing else
  }

  /// NaN or infinite values offered to set/add and ignored.
  std::uint64_t rejected() const noexcept {
    return rejected_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

private:
  void add_cas(double d) noexcept {
    auto old = bits_.load(std::memory_order_relaxed); // relaxed: the CAS validates it
    for (;;) {
      double sum = std::bit_cast<double>(old) + d;
      if (!std::isfinite(sum)) [[unlikely]]
        return reject(); // would overflow: keep the value, count the attempt
      // relaxed: the CAS only needs atomicity; the gauge publishes nothing else.
      if (bits_.compare_exchange_weak(old, std::bit_cast<std::uint64_t>(sum), std::memory_order_relaxed, // relaxed: atomicity only
                                      std::memory_order_relaxed)) // relaxed: retried with the fresher value
        return;
    }
  }

  void reject() noexcept {
    rejected_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  }

  const detail::mode_flag* lock_free_;
  std::atomic<std::uint64_t> bits_{0}; // bits of +0.0
  std::atomic<std::uint64_t> rejected_{0};
  std::mutex mutex_;
};

} // namespace metron
