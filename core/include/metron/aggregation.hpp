// metron/aggregation.hpp — one tick of aggregation: a raw snapshot in, a report out.
// Pure C++ (no CAF): the monitor's aggregator actor calls it, and so can a
// benchmark, a test or a program without actors.
//
// tick(raw) turns a raw snapshot (reg.snapshot(), or a merged cluster snapshot, with
// mono_ns set by the caller's clock) into the published, immutable report:
//   - sequence (1, 2, ...) and interval_seconds (since the previous tick, 0 first);
//   - counter and histogram rate: increase since the previous tick / interval;
//   - the configured quantiles of every histogram (0 for an empty histogram);
//   - per configured window W, per counter and histogram: the exact increase since
//     the "window start" snapshot, its rate, and for histograms the quantiles and
//     max of exactly the values recorded in between (histogram_snapshot::minus);
//   - per window, per histogram, the k slowest events (window_stats::slowest): the
//     k largest-valued exemplars the raw snapshot carries that were recorded after
//     the window start's wall time. The snapshot keeps the latest exemplar per layout
//     block (binade), so two slow events in one binade count once (the later): these
//     are the slowest *kept* events, not a full trail.
//
// History (the algorithm): every window W keeps its own ring of earlier published
// snapshots, spaced at least W/32 apart (ticks closer than that are not kept for W).
// The window start is the newest kept snapshot at least W old, so a window covers
// between W and W + W/32 of time; window_stats::seconds says exactly how much. While
// the monitor is younger than W, the oldest snapshot (the first tick) is used and
// seconds is shorter. Older entries are dropped, so each ring holds at most about
// 34 snapshots whatever the tick interval: memory is bounded by the number of
// windows, never by uptime or the tick rate. The entries are the published
// raw snapshot_ptrs of the reports, shared, not copies.
//
// Series are matched between snapshots by (name, labels) with a linear merge of
// the sorted sample vectors: a tick costs O(series + buckets), no per-series search.
//
// Retired series (registry::remove, idle expiry): a counter or histogram that
// leaves the snapshots keeps its last total here (metron/vanished.hpp, at most
// max_gone series) until it returns; a returning series' rate and window increases
// are taken against that total, so its return is never read as an increase of its
// whole total. (A series that vanished, returned and vanished again within a window
// has its window increase counted from its last vanishing: an undercount, never a
// jump.) While nothing vanishes and nothing is kept this costs one count per tick.
//
// Concurrency: not thread-safe; one owner calls tick() (the aggregator actor, or a
// benchmark). The returned reports are immutable and safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include <chrono>

#include "metron/report.hpp"
#include "metron/snapshot.hpp"

namespace metron {

/// What an aggregation computes.
struct aggregation_config {
  /// Quantiles computed for every histogram, q in [0, 1].
  std::vector<double> quantiles{0.5, 0.9, 0.99, 0.999};
  /// Sliding windows (exact, by subtracting snapshots); history is bounded by the longest.
  std::vector<std::chrono::seconds> windows{std::chrono::seconds{60}, std::chrono::seconds{300}};
  /// Slowest events (exemplars) kept per window and histogram; 0: none.
  std::size_t slowest = 5;
};

class aggregation {
public:
  /// Throws std::invalid_argument for a quantile outside [0, 1] or a window <= 0.
  explicit aggregation(const aggregation_config& cfg = {});

  /// Aggregates one raw snapshot (mono_ns must not go backwards) and returns the
  /// shared, immutable report; it also becomes latest(). Strong exception safety:
  /// if it throws, the aggregation is unchanged.
  report_ptr tick(snapshot raw);

  /// The last result of tick(); nullptr before the first tick.
  report_ptr latest() const { return latest_; }

  /// Snapshots kept for the windows (distinct or not), for tests of boundedness.
  std::size_t history_entries() const noexcept;

  /// The largest number of entries one window's ring can hold.
  static constexpr std::size_t max_entries_per_window = 34;

  /// Most vanished series whose last totals are kept (see the file comment).
  static constexpr std::size_t max_gone = std::size_t{1} << 16;

private:
  struct window_ring {
    std::int64_t length_ns;
    std::int64_t spacing_ns;
    std::deque<snapshot_ptr> entries; // oldest first
  };

  std::vector<double> quantiles_;
  std::size_t slowest_;
  std::vector<window_ring> windows_;
  report_ptr latest_;
  std::uint64_t sequence_ = 0;
  snapshot gone_; // last totals of vanished counters and histograms (metron/vanished.hpp)
};

} // namespace metron
