#include "metron/actors/filter.hpp"

#include <algorithm>

namespace metron {
namespace {

template <class T>
void copy_matching(std::vector<T>& out, const std::vector<T>& in, std::string_view prefix) {
  // Sorted by name: the matches are one contiguous range starting at the prefix.
  auto it = std::lower_bound(in.begin(), in.end(), prefix,
                             [](const T& x, std::string_view p) { return std::string_view{x.name()} < p; });
  for (; it != in.end() && std::string_view{it->name()}.starts_with(prefix); ++it)
    out.push_back(*it);
}

} // namespace

snapshot filter_by_prefix(const snapshot& s, std::string_view prefix) {
  snapshot r;
  copy_matching(r.families, s.families, prefix);
  copy_matching(r.counters, s.counters, prefix);
  copy_matching(r.updowns, s.updowns, prefix);
  copy_matching(r.gauges, s.gauges, prefix);
  copy_matching(r.histograms, s.histograms, prefix);
  r.wall_ns = s.wall_ns;
  r.mono_ns = s.mono_ns;
  r.sequence = s.sequence;
  r.interval_seconds = s.interval_seconds;
  return r;
}

} // namespace metron
