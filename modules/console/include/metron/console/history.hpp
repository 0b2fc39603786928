// metron/console/history.hpp — what a live view remembers between frames.
//
// A report from the monitor carries totals since start (counter totals, the whole
// histogram) and rates over the last tick. A live view wants "now": history turns
// each report it is given into per-series figures over the interval since the
// previous update() — for histograms the count, rate, p50, p90, p99 and max of
// exactly the values recorded in between (histogram_snapshot::minus), for counters
// the rate — and keeps the last `capacity` values of each (the sparklines).
// Feeding it every n-th report makes the interval n ticks long.
//
// The first update of a series has no earlier data: its interval is everything
// recorded so far, and its rate is the report's own (the aggregator's last tick).
// A series that disappears from a report is forgotten, so memory is bounded by
// (series in the latest report) x capacity.
//
// Concurrency: not thread-safe; one owner (the view actor, or a test) calls
// update() and reads. A plain value otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "metron/histogram_snapshot.hpp"
#include "metron/labels.hpp"
#include "metron/report.hpp"

namespace metron::console {

/// Figures of one histogram over one interval (NaN quantiles when it saw no values).
struct interval_stats {
  std::uint64_t count = 0;
  double rate = 0; // values per second
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

/// What history keeps per series.
struct series_history {
  interval_stats last;         // histograms: the latest interval
  double rate = 0;             // counters and histograms: per second over the latest interval
  std::deque<double> trend;    // recent p99 (histograms), rate (counters), value (gauges); oldest first
  histogram_snapshot previous; // histograms: the data at the previous update
  std::uint64_t previous_total = 0; // counters: the total at the previous update
  std::int64_t previous_mono_ns = 0;
  std::uint64_t seen_at = 0;   // the update that last saw the series
};

/// "name" or "name{k="v",...}", the key history and the table use for a series.
std::string series_key(std::string_view name, const labels& ls);

class history {
public:
  /// Keeps the last `capacity` trend values per series (at least 1).
  explicit history(std::size_t capacity = 40);

  /// Takes in one report (see the file comment). Reports must be given in order.
  void update(const report& r);

  /// The series' history, or nullptr if the last update did not see it.
  const series_history* find(std::string_view name, const labels& ls = {}) const;

  /// Updates so far.
  std::uint64_t updates() const noexcept { return updates_; }
  /// Seconds covered by the latest interval (0 at the first update).
  double interval_seconds() const noexcept { return interval_seconds_; }
  std::size_t capacity() const noexcept { return capacity_; }
  /// Series remembered now.
  std::size_t size() const noexcept { return series_.size(); }

private:
  series_history& touch(std::string_view name, const labels& ls);
  void push(series_history& h, double v);

  std::size_t capacity_;
  std::uint64_t updates_ = 0;
  std::int64_t previous_mono_ns_ = 0;
  double interval_seconds_ = 0;
  std::map<std::string, series_history, std::less<>> series_;
};

} // namespace metron::console
