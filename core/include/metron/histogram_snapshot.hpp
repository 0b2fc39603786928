// metron/histogram_snapshot.hpp — an immutable, mergeable copy of a histogram.
//
// Holds the non-empty buckets of the shared log-linear layout (bucket_layout.hpp)
// as (index, count) pairs sorted by index, plus count, sum, min, max and the count
// of rejected values. Being self-contained values over one layout, two snapshots
// merge exactly (bucket counts add) and a later one minus an earlier one of the same
// histogram gives the interval between them.
//
// Quantiles use the nearest-rank definition: quantile(q) is the value of rank
// ceil(q * count) (at least 1). metron returns the midpoint of the bucket holding
// that rank, clamped to [min, max], so for values in the tracked range it is within
// bucket_layout::relative_error (0.78%) of the exact order statistic. quantile(0)
// is min() and quantile(1) is max(), exactly.
//
// Exemplars (metron/exemplar.hpp): a snapshot of a live histogram carries its latest
// exemplar per layout block (binade), sorted by block. merge() keeps the later (by
// wall time) of two exemplars of one block; minus() keeps this snapshot's. They and
// exemplars_dropped() are not part of inspect(): the remote wire and CAF's
// serialization carry recorded values only, exemplars stay in the process that
// recorded them.
//
// Concurrency: a plain value; const members are safe to call from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "metron/bucket_layout.hpp"
#include "metron/exemplar.hpp"

namespace metron {

class histogram_snapshot {
public:
  using bucket = std::pair<std::uint32_t, std::uint64_t>; // (index, count)

  histogram_snapshot() = default;

  /// Builds from sorted, non-empty buckets; count is the sum of the bucket counts.
  histogram_snapshot(std::vector<bucket> buckets, double sum, double min, double max,
                     std::uint64_t rejected);

  // -- reading -----------------------------------------------------------------

  std::uint64_t count() const noexcept { return count_; }
  double sum() const noexcept { return sum_; }
  /// Smallest recorded value; 0 when empty.
  double min() const noexcept { return count_ ? min_ : 0.0; }
  /// Largest recorded value; 0 when empty.
  double max() const noexcept { return count_ ? max_ : 0.0; }
  /// sum / count; 0 when empty.
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  /// NaN, infinite and negative values offered and ignored.
  std::uint64_t rejected() const noexcept { return rejected_; }
  /// Nearest-rank quantile, q in [0, 1] (clamped); NaN when empty.
  double quantile(double q) const noexcept;
  /// quantile(qs[i]) for every i into out[i], in one pass over the buckets when qs
  /// is ascending (as configured quantiles are), else one pass per quantile.
  void quantiles(const double* qs, std::size_t n, double* out) const noexcept;
  /// Number of recorded values <= v, at bucket resolution (buckets whose upper
  /// bound is <= v count fully); exact when v is a bucket bound.
  std::uint64_t count_at_or_below(double v) const noexcept;
  /// The non-empty buckets, sorted by index.
  const std::vector<bucket>& buckets() const noexcept { return buckets_; }
  /// The latest exemplar per layout block, sorted by block (see the file comment).
  const std::vector<exemplar_sample>& exemplars() const noexcept { return exemplars_; }
  /// Exemplars the histogram dropped (histogram::exemplars_dropped()).
  std::uint64_t exemplars_dropped() const noexcept { return exemplars_dropped_; }
  /// Sets the exemplars (sorted by block, one per block) and the dropped count.
  void set_exemplars(std::vector<exemplar_sample> ex, std::uint64_t dropped) {
    exemplars_ = std::move(ex);
    exemplars_dropped_ = dropped;
  }

  // -- combining ---------------------------------------------------------------

  /// Adds other's values: bucket counts, count, sum and rejected add; min/max combine.
  void merge(const histogram_snapshot& other);

  /// The values recorded after `earlier` (an older snapshot of the same histogram)
  /// up to this one. Counts and sum are exact; min/max of the interval are the
  /// bounds of its lowest/highest non-empty bucket, clamped to this one's min/max.
  histogram_snapshot minus(const histogram_snapshot& earlier) const;

  /// minus() into `out`, reusing out's bucket storage (no allocation once it is
  /// large enough): what a periodic window computation calls.
  void minus_into(const histogram_snapshot& earlier, histogram_snapshot& out) const;

  friend bool operator==(const histogram_snapshot&, const histogram_snapshot&) = default;

  /// Serialization hook (CAF's inspect and others): every field, by reference.
  template <class F>
  friend auto inspect(F& f, histogram_snapshot& x) {
    return f(x.buckets_, x.count_, x.sum_, x.min_, x.max_, x.rejected_);
  }

private:
  std::vector<bucket> buckets_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  std::uint64_t rejected_ = 0;
  std::vector<exemplar_sample> exemplars_;
  std::uint64_t exemplars_dropped_ = 0;
};

} // namespace metron
