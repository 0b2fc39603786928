// The kept last values of vanished series (format and rules: metron/vanished.hpp).
#include "metron/vanished.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace metron {

namespace {

template <class Vec>
void sort_samples(Vec& v) {
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.series < b.series; });
}

template <class Vec>
bool holds(const Vec& v, const series_ref& id) {
  auto it = std::lower_bound(v.begin(), v.end(), id, [](auto& x, const series_ref& k) { return x.series < k; });
  return it != v.end() && !(id < it->series);
}

// Kept samples not in next, then prev's samples not in next (sorted, bounded).
template <class Vec>
void track(Vec& kept, const Vec& prev, const Vec& next, const snapshot& next_snap, std::size_t& room) {
  auto other_kind = [&](auto& x) {
    auto* f = next_snap.find_family(x.name());
    return f != nullptr && f->kind != x.series.kind();
  };
  std::erase_if(kept, [&](auto& x) { return holds(next, x.series) || holds(prev, x.series) || other_kind(x); });
  for (auto& x : prev)
    if (!holds(next, x.series) && !other_kind(x) && kept.size() < room)
      kept.push_back(x);
  sort_samples(kept);
  room -= std::min(room, kept.size());
}

} // namespace

void track_vanished(snapshot& vanished, const snapshot& prev, const snapshot& next, std::size_t max_series) {
  // The steady state: the same series in the same order (a registry and the wire
  // decoder share identities tick to tick, so this is mostly pointer compares).
  // Nothing vanished and nothing appeared, so what is kept stays as it is.
  auto same = [](auto& a, auto& b) {
    return a.size() == b.size()
           && std::equal(a.begin(), a.end(), b.begin(), [](auto& x, auto& y) { return x.series == y.series; });
  };
  if (same(prev.counters, next.counters) && same(prev.histograms, next.histograms)) {
    vanished.wall_ns = next.wall_ns;
    return;
  }
  std::size_t room = max_series;
  track(vanished.counters, prev.counters, next.counters, next, room);
  track(vanished.histograms, prev.histograms, next.histograms, next, room);
  // The families of what is kept: the newest description (prev's, else the kept one).
  std::vector<family_ref> families;
  auto used = [&](const std::string& name) {
    auto has = [&](auto& v) {
      auto it = std::lower_bound(v.begin(), v.end(), name, [](auto& x, const std::string& n) { return x.name() < n; });
      return it != v.end() && it->name() == name;
    };
    return has(vanished.counters) || has(vanished.histograms);
  };
  for (const std::vector<family_ref>* src : {&prev.families, &std::as_const(vanished.families)})
    for (auto& f : *src)
      if (used(f->name))
        families.push_back(f);
  auto by_name = [](auto& a, auto& b) { return a->name < b->name; };
  std::stable_sort(families.begin(), families.end(), by_name); // prev's first among equals
  families.erase(std::unique(families.begin(), families.end(), [](auto& a, auto& b) { return a->name == b->name; }),
                 families.end());
  vanished.families = std::move(families);
  vanished.wall_ns = next.wall_ns;
  vanished.mono_ns = 0;
}

} // namespace metron
