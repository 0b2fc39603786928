// metron/settable_counter.hpp — a counter whose total is read from elsewhere.
//
// A metron::counter counts events in whole units as they happen. Some totals are
// counted by someone else and only read: CPU seconds and bytes read from /proc, a
// library's own statistics. A settable counter holds such a reading, fractional if
// need be, and its family is declared monotonic (family_info::monotonic): exporters
// expose it as a counter (Prometheus TYPE counter, so rate() applies) and
// snapshot::minus subtracts it, because the kind was declared, not guessed from a
// "_total" suffix. Create one with registry::settable_counter, or let the registry
// read it at each snapshot with registry::counter_callback.
//
// The value is stored as a gauge's (one atomic double, metron/gauge.hpp). set() with
// a value below the current one is taken as a reset of the source (a restarted
// process), as Prometheus takes a counter that goes down.
//
// Bad input: NaN, infinities and negative values are not stored; they are counted in
// rejected() (and in the registry's metron_rejected_values_total).
//
// Concurrency: set(), value() and rejected() are thread-safe (those of the gauge).
#pragma once

#include <cstdint>
#include <limits>

#include "metron/detail/mode.hpp"
#include "metron/gauge.hpp"

namespace metron {

class registry;

class settable_counter {
public:
  settable_counter() : settable_counter(&detail::default_lock_free) {}
  explicit settable_counter(const detail::mode_flag* lock_free) : cell_(lock_free) {}

  settable_counter(const settable_counter&) = delete;
  settable_counter& operator=(const settable_counter&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Replaces the total with a reading of the source. NaN, infinities and negative
  /// values are rejected (counted, value unchanged).
  void set(double total) noexcept {
    // A negative reading goes to the cell as NaN, so the cell counts it as it
    // counts every other rejected value (one count, one place).
    cell_.set(total >= 0 ? total : std::numeric_limits<double>::quiet_NaN());
  }

  // -- reading -----------------------------------------------------------------

  double value() const noexcept { return cell_.value(); }

  /// NaN, infinite or negative values offered to set and ignored.
  std::uint64_t rejected() const noexcept { return cell_.rejected(); }

private:
  friend class registry; // snapshots read the cell with the registry's gauges
  metron::gauge cell_;
};

} // namespace metron
