// metron/snapshot.hpp — an immutable, self-contained view of a registry.
//
// A snapshot is a plain value: series identities and numbers, no pointer back into
// live metrics, so it can be kept, shared (snapshot_ptr), sent to another process
// or merged with snapshots of other processes. Samples are sorted by (name, labels)
// and find_* use binary search. Each sample refers to its series' interned identity
// (series.hpp) and each family entry to the family's: a registry snapshot copies
// numbers and shared pointers, never names, labels or help texts.
//
// Combining: merge() adds another snapshot's series into this one (counters and
// up/down counters add, histograms merge bucket by bucket, exactly; gauges add,
// which is the cluster total); minus() gives the interval between an earlier
// snapshot of the same registry and this one (counters and histograms subtract
// exactly; gauges keep this snapshot's value, except gauges of a family declared
// monotonic — settable counters, family_info::monotonic — which subtract as counters
// do, a smaller value counting as a reset). A family declared monotonic in one
// snapshot and not in the other is a kind clash for merge().
//
// A snapshot holds recorded values only. What is derived from them — rates,
// quantiles, sliding windows, the tick's sequence number — is computed by
// metron::aggregation into a metron::report (report.hpp), which keeps the snapshot
// it was computed from: merging snapshots stays exact, and reports are never merged.
//
// Concurrency: a value type; const members are safe from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metron/histogram_snapshot.hpp"
#include "metron/labels.hpp"
#include "metron/series.hpp"

namespace metron {

/// What every sample has: its series' interned identity (never copied per tick).
struct sample_base {
  series_ref series;
  const std::string& name() const noexcept { return series.name(); }
  const metron::labels& labels() const noexcept { return series.labels(); }
  friend bool operator==(const sample_base&, const sample_base&) = default;
};

struct counter_sample : sample_base {
  std::uint64_t total = 0;
  std::uint64_t value() const noexcept { return total; }
  friend bool operator==(const counter_sample&, const counter_sample&) = default;
  template <class F> friend auto inspect(F& f, counter_sample& x) { return f(x.series, x.total); }
};

struct updown_sample : sample_base {
  std::int64_t total = 0;
  std::int64_t value() const noexcept { return total; }
  friend bool operator==(const updown_sample&, const updown_sample&) = default;
  template <class F> friend auto inspect(F& f, updown_sample& x) { return f(x.series, x.total); }
};

struct gauge_sample : sample_base {
  double current = 0;
  std::uint64_t rejected = 0; // NaN / infinite values offered, and adds that would overflow
  double value() const noexcept { return current; }
  friend bool operator==(const gauge_sample&, const gauge_sample&) = default;
  template <class F> friend auto inspect(F& f, gauge_sample& x) { return f(x.series, x.current, x.rejected); }
};

struct histogram_sample : sample_base {
  histogram_snapshot data;
  friend bool operator==(const histogram_sample&, const histogram_sample&) = default;
  template <class F> friend auto inspect(F& f, histogram_sample& x) { return f(x.series, x.data); }
};

class snapshot {
public:
  // -- contents ----------------------------------------------------------------

  std::vector<family_ref> families; // sorted by name
  std::vector<counter_sample> counters;
  std::vector<updown_sample> updowns;
  std::vector<gauge_sample> gauges;
  std::vector<histogram_sample> histograms;
  std::int64_t wall_ns = 0;    // system_clock time of the snapshot, ns since the epoch
  std::int64_t mono_ns = 0;    // steady_clock time, for intervals and rates

  // -- lookup (nullptr when absent) -----------------------------------------------

  const counter_sample* find_counter(std::string_view name, const labels& ls = {}) const;
  const updown_sample* find_updown_counter(std::string_view name, const labels& ls = {}) const;
  const gauge_sample* find_gauge(std::string_view name, const labels& ls = {}) const;
  const histogram_snapshot* find_histogram(std::string_view name, const labels& ls = {}) const;
  const histogram_sample* find_histogram_sample(std::string_view name, const labels& ls = {}) const;
  const family_info* find_family(std::string_view name) const;

  /// Number of series (samples of every kind).
  std::size_t series() const noexcept {
    return counters.size() + updowns.size() + gauges.size() + histograms.size();
  }

  // -- combining ---------------------------------------------------------------

  /// Adds other's series into this one (see the file comment); throws
  /// std::invalid_argument if a name has different kinds in the two.
  void merge(const snapshot& other);

  /// The interval from `earlier` to this snapshot (see the file comment).
  snapshot minus(const snapshot& earlier) const;

  /// The series whose name starts with `prefix` (and their families), same times.
  snapshot filtered(std::string_view prefix) const;

  friend bool operator==(const snapshot&, const snapshot&) = default;

  template <class F> friend auto inspect(F& f, snapshot& x) {
    return f(x.families, x.counters, x.updowns, x.gauges, x.histograms, x.wall_ns, x.mono_ns);
  }
};

/// Snapshots are shared, never copied per consumer.
using snapshot_ptr = std::shared_ptr<const snapshot>;

} // namespace metron
