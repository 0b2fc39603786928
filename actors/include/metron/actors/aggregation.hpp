// metron/actors/aggregation.hpp — one tick of aggregation, without actors.
//
// tick(raw) turns a raw registry snapshot (reg.snapshot(), with mono_ns set by the
// caller's clock) into the published, immutable snapshot:
//   - sequence (1, 2, ...) and interval_seconds (since the previous tick, 0 first);
//   - counter and histogram rate: increase since the previous tick / interval;
//   - the configured quantiles of every histogram (0 for an empty histogram);
//   - per configured window W, per counter and histogram: the exact increase since
//     the "window start" snapshot, its rate, and for histograms the quantiles and
//     max of exactly the values recorded in between (histogram_snapshot::minus).
//
// History (the algorithm): every window W keeps its own ring of earlier published
// snapshots, spaced at least W/32 apart (ticks closer than that are not kept for W).
// The window start is the newest kept snapshot at least W old, so a window covers
// between W and W + W/32 of time; window_stats::seconds says exactly how much. While
// the monitor is younger than W, the oldest snapshot (the first tick) is used and
// seconds is shorter. Older entries are dropped, so each ring holds at most about
// 34 snapshots whatever the tick interval: memory is bounded by the number of
// windows, never by uptime or the tick rate. The entries are the published
// snapshot_ptrs themselves, shared, not copies.
//
// Series are matched between snapshots by (name, labels) with a linear merge of
// the sorted sample vectors: a tick costs O(series + buckets), no per-series search.
//
// Concurrency: not thread-safe; one owner calls tick() (the aggregator actor, or a
// benchmark). The returned snapshots are immutable and safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "metron/actors/config.hpp"
#include "metron/snapshot.hpp"

namespace metron {

class aggregation {
public:
  explicit aggregation(const monitor_config& cfg);

  /// Aggregates one raw snapshot (mono_ns must not go backwards) and returns the
  /// shared, immutable result; it also becomes latest(). Strong exception safety:
  /// if it throws, the aggregation is unchanged.
  snapshot_ptr tick(metron::snapshot raw);

  /// The last result of tick(); nullptr before the first tick.
  snapshot_ptr latest() const { return latest_; }

  /// Snapshots kept for the windows (distinct or not), for tests of boundedness.
  std::size_t history_entries() const noexcept;

  /// The largest number of entries one window's ring can hold.
  static constexpr std::size_t max_entries_per_window = 34;

private:
  struct window_ring {
    std::int64_t length_ns;
    std::int64_t spacing_ns;
    std::deque<snapshot_ptr> entries; // oldest first
  };

  std::vector<double> quantiles_;
  std::vector<window_ring> windows_;
  snapshot_ptr latest_;
  std::uint64_t sequence_ = 0;
};

} // namespace metron
