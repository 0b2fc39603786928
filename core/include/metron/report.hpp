// metron/report.hpp — what a monitor publishes each tick: a raw snapshot and the
// figures derived from it (rates, quantiles, sliding windows, sequence).
//
// The raw snapshot (raw()) holds recorded values only; it is exact and mergeable.
// A report is computed from one by metron::aggregation (aggregation.hpp) and is
// never merged: to combine processes, merge their snapshots and aggregate the
// result (the cluster collector does exactly that).
//
// Lookups answer as a snapshot's do (find_counter, find_gauge, find_histogram, ...
// forward to raw()). The derived figures are parallel to the raw samples: the
// figures of raw().counters[i] are counter_stats()[i], those of raw().histograms[i]
// are histogram_stats()[i]; figures(sample) finds them for a sample of raw(), and
// find_counter_figures / find_histogram_figures by name and labels.
//
//   metron::report_ptr r = ...;                         // from a monitor
//   r->find_histogram("rpc_seconds")->quantile(0.99);   // raw values, as on a snapshot
//   r->find_histogram_figures("rpc_seconds")->rate;     // records per second, last tick
//   r->raw();                                           // the snapshot it came from
//
// Invariant (kept by every constructor and by deserialization, so a report from the
// network cannot break it): raw_ptr() is never null, and the figure vectors have
// exactly as many entries as raw()'s counters and histograms.
//
// Concurrency: immutable once built and shared through report_ptr; const members
// are safe from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "metron/snapshot.hpp"

namespace metron {

/// A quantile and its value.
struct quantile_value {
  double q = 0;
  double value = 0;
  friend bool operator==(const quantile_value&, const quantile_value&) = default;
  template <class F> friend auto inspect(F& f, quantile_value& x) { return f(x.q, x.value); }
};

/// Figures over a trailing window (exact: computed by subtracting the snapshot at
/// the window's start from the latest one).
struct window_stats {
  std::int64_t length_ns = 0;    // the configured window length
  double seconds = 0;            // the time actually covered (shorter at start-up)
  double increase = 0;           // counter increase / histogram count in the window
  double rate = 0;               // increase per second
  std::vector<quantile_value> quantiles; // histograms only
  double max = 0;                // histograms only: max in the window (bucket bound)
  /// Histograms only: the slowest exemplars recorded in the window, largest value
  /// first (aggregation_config::slowest). Not serialized (inspect): exemplars stay in
  /// the process that recorded them.
  std::vector<exemplar_sample> slowest{};
  friend bool operator==(const window_stats&, const window_stats&) = default;
  template <class F> friend auto inspect(F& f, window_stats& x) {
    return f(x.length_ns, x.seconds, x.increase, x.rate, x.quantiles, x.max);
  }
};

/// Derived figures of a counter.
struct counter_figures {
  double rate = 0;                   // increase per second over the last tick
  std::vector<window_stats> windows; // one per configured window, shortest first
  friend bool operator==(const counter_figures&, const counter_figures&) = default;
  template <class F> friend auto inspect(F& f, counter_figures& x) { return f(x.rate, x.windows); }
};

/// Derived figures of a histogram.
struct histogram_figures {
  double rate = 0;                       // records per second over the last tick
  std::vector<quantile_value> quantiles; // the configured quantiles, over all time
  std::vector<window_stats> windows;     // one per configured window, shortest first
  friend bool operator==(const histogram_figures&, const histogram_figures&) = default;
  template <class F> friend auto inspect(F& f, histogram_figures& x) {
    return f(x.rate, x.quantiles, x.windows);
  }
};

class report {
public:
  /// An empty report (an empty snapshot, sequence 0).
  report();

  /// Figures are resized to raw's counters and histograms if their sizes differ
  /// (missing entries are zero); a null raw is an empty snapshot.
  report(snapshot_ptr raw, std::uint64_t sequence, double interval_seconds,
         std::vector<counter_figures> counters, std::vector<histogram_figures> histograms);

  // -- the raw values --------------------------------------------------------------

  const snapshot& raw() const noexcept { return *raw_; }
  const snapshot_ptr& raw_ptr() const noexcept { return raw_; }

  /// Tick number of the monitor that computed it: 1, 2, ...
  std::uint64_t sequence() const noexcept { return sequence_; }
  /// Seconds since the previous tick (0 at the first).
  double interval_seconds() const noexcept { return interval_seconds_; }
  std::int64_t wall_ns() const noexcept { return raw_->wall_ns; }
  std::int64_t mono_ns() const noexcept { return raw_->mono_ns; }
  std::size_t series() const noexcept { return raw_->series(); }

  // -- lookup, as on a snapshot (nullptr when absent) --------------------------------

  const counter_sample* find_counter(std::string_view name, const labels& ls = {}) const {
    return raw_->find_counter(name, ls);
  }
  const updown_sample* find_updown_counter(std::string_view name, const labels& ls = {}) const {
    return raw_->find_updown_counter(name, ls);
  }
  const gauge_sample* find_gauge(std::string_view name, const labels& ls = {}) const {
    return raw_->find_gauge(name, ls);
  }
  const histogram_snapshot* find_histogram(std::string_view name, const labels& ls = {}) const {
    return raw_->find_histogram(name, ls);
  }
  const histogram_sample* find_histogram_sample(std::string_view name, const labels& ls = {}) const {
    return raw_->find_histogram_sample(name, ls);
  }
  const family_info* find_family(std::string_view name) const { return raw_->find_family(name); }

  // -- derived figures -------------------------------------------------------------

  /// Parallel to raw().counters / raw().histograms.
  const std::vector<counter_figures>& counter_stats() const noexcept { return counters_; }
  const std::vector<histogram_figures>& histogram_stats() const noexcept { return histograms_; }

  /// The figures of a sample of raw() (s must be an element of raw().counters /
  /// raw().histograms: found through raw() or a find_* of this report).
  const counter_figures& figures(const counter_sample& s) const noexcept {
    return counters_[static_cast<std::size_t>(&s - raw_->counters.data())];
  }
  const histogram_figures& figures(const histogram_sample& s) const noexcept {
    return histograms_[static_cast<std::size_t>(&s - raw_->histograms.data())];
  }

  const counter_figures* find_counter_figures(std::string_view name, const labels& ls = {}) const;
  const histogram_figures* find_histogram_figures(std::string_view name, const labels& ls = {}) const;

  /// The part of this report whose series names start with `prefix` (what a
  /// subscriber with a prefix filter receives): same sequence and interval.
  report filtered(std::string_view prefix) const;

  friend bool operator==(const report& a, const report& b) {
    return *a.raw_ == *b.raw_ && a.sequence_ == b.sequence_ && a.interval_seconds_ == b.interval_seconds_
           && a.counters_ == b.counters_ && a.histograms_ == b.histograms_;
  }

  /// CAF-style inspection (no CAF include: any inspector with reads_state and
  /// result_type). Loading keeps the invariant of the file comment.
  template <class F> friend typename F::result_type inspect(F& f, report& x) {
    if constexpr (F::reads_state) {
      // Reading state only: the inspector does not write through the reference.
      return f(const_cast<snapshot&>(*x.raw_), x.sequence_, x.interval_seconds_, x.counters_, x.histograms_);
    } else {
      auto fresh = std::make_shared<snapshot>();
      if constexpr (std::is_void_v<typename F::result_type>) {
        f(*fresh, x.sequence_, x.interval_seconds_, x.counters_, x.histograms_);
        x.raw_ = std::move(fresh);
        x.normalize();
      } else {
        auto result = f(*fresh, x.sequence_, x.interval_seconds_, x.counters_, x.histograms_);
        x.raw_ = std::move(fresh);
        x.normalize();
        return result;
      }
    }
  }

private:
  void normalize();

  snapshot_ptr raw_;
  std::uint64_t sequence_ = 0;
  double interval_seconds_ = 0;
  std::vector<counter_figures> counters_;
  std::vector<histogram_figures> histograms_;
};

/// Reports are shared, never copied per consumer.
using report_ptr = std::shared_ptr<const report>;

} // namespace metron
