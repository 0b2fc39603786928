// metron/vanished.hpp — the last totals of series that left a stream of snapshots.
//
// A registry retires series (registry::remove, idle expiry) and brings them back with
// their totals continuing. Whoever derives increases from consecutive snapshots of
// one source (aggregation's rates and windows, the cluster collector's merge) must
// then not read a returning series as new (an increase of its whole total) nor a
// retired one as gone (a drop). track_vanished keeps, for counters and histograms,
// the last value of each series that vanished, until it comes back.
//
// Errors: none; at most `max_series` series are kept (beyond that a vanished series
// is forgotten: a reader then treats its return as new, as before this existed).
// Concurrency: a pure function of its arguments. Memory: the kept samples (a
// histogram's buckets included), bounded by max_series.
#pragma once

#include <cstddef>

#include "metron/snapshot.hpp"

namespace metron {

/// Updates `kept` when snapshot `prev` of a source is followed by `next`: counters
/// and histograms of prev that next lacks are kept (their last value, with their
/// families), kept ones that next has again are dropped, as are kept ones whose
/// name next uses for another kind. Samples stay sorted as in a snapshot.
/// Cost: O(|prev|) identity comparisons (mostly pointer compares) when prev and next
/// have the same series in the same order (kept is then unchanged); otherwise
/// O((|kept| + |prev|) log |next|).
void track_vanished(snapshot& kept, const snapshot& prev, const snapshot& next, std::size_t max_series);

/// True if `kept` holds nothing (no series, no family).
inline bool holds_nothing(const snapshot& kept) noexcept {
  return kept.families.empty() && kept.counters.empty() && kept.histograms.empty();
}

} // namespace metron
