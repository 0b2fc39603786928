#include "metron/snapshot.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <tuple>

namespace metron {

const char* to_string(metric_kind k) noexcept {
  switch (k) {
    case metric_kind::counter:
      return "counter";
    case metric_kind::updown_counter:
      return "updown_counter";
    case metric_kind::gauge:
      return "gauge";
    case metric_kind::histogram:
      return "histogram";
  }
  return "unknown";
}

namespace {

// Samples are sorted by (name, labels); find one by binary search. The query is
// copied and sorted only when it is not sorted by key already.
template <class Vec>
auto find_sample(const Vec& v, std::string_view name, const labels& query) -> decltype(&v.front()) {
  auto by_key = [](auto& a, auto& b) { return a.first < b.first; };
  labels sorted;
  const labels* ls = &query;
  if (!std::is_sorted(query.begin(), query.end(), by_key)) {
    sorted = query;
    std::sort(sorted.begin(), sorted.end(), by_key);
    ls = &sorted;
  }
  auto it = std::lower_bound(v.begin(), v.end(), name, [ls](auto& s, std::string_view n) {
    int c = std::string_view{s.name()}.compare(n);
    return c < 0 || (c == 0 && s.labels() < *ls);
  });
  if (it != v.end() && it->name() == name && it->labels() == *ls)
    return &*it;
  return nullptr;
}

template <class T>
bool key_less(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, family_ref>)
    return a->name < b->name;
  else
    return a.series < b.series;
}

template <class T>
bool same_key(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, family_ref>)
    return a.get() == b.get() || a->name == b->name;
  else
    return a.series == b.series;
}

// Merges sorted sample vectors: f(into, from) combines samples with equal keys. In
// place while both have the same keys at the same positions (snapshots of processes
// with the same metrics: no allocation, no move); rebuilt from the first difference.
template <class T, class F>
void merge_sorted(std::vector<T>& into, const std::vector<T>& from, F combine) {
  std::size_t same = 0;
  for (std::size_t n = std::min(into.size(), from.size()); same < n && same_key(into[same], from[same]); ++same)
    combine(into[same], from[same]);
  if (same == from.size())
    return;
  std::vector<T> out;
  out.reserve(into.size() + from.size() - same);
  std::move(into.begin(), into.begin() + static_cast<std::ptrdiff_t>(same), std::back_inserter(out));
  auto a = into.begin() + static_cast<std::ptrdiff_t>(same);
  auto b = from.begin() + static_cast<std::ptrdiff_t>(same);
  while (a != into.end() || b != from.end()) {
    if (b == from.end() || (a != into.end() && key_less(*a, *b)))
      out.push_back(std::move(*a++));
    else if (a == into.end() || key_less(*b, *a))
      out.push_back(*b++);
    else {
      combine(*a, *b);
      out.push_back(std::move(*a++));
      ++b;
    }
  }
  into = std::move(out);
}

// For each sample of `later` (sorted), f(sample, the sample of `earlier` with the
// same series or nullptr): a merge-join, O(n + m), no lookups.
template <class T, class F>
void join_earlier(const std::vector<T>& later, const std::vector<T>& earlier, F f) {
  auto e = earlier.begin();
  for (auto& x : later) {
    while (e != earlier.end() && e->series < x.series)
      ++e;
    f(x, e != earlier.end() && e->series == x.series ? &*e : nullptr);
  }
}

template <class T>
void copy_matching(std::vector<T>& out, const std::vector<T>& in, std::string_view prefix) {
  // Sorted by name: the matches are one contiguous range starting at the prefix.
  auto it = std::lower_bound(in.begin(), in.end(), prefix, [](const T& x, std::string_view p) {
    if constexpr (std::is_same_v<T, family_ref>)
      return std::string_view{x->name} < p;
    else
      return std::string_view{x.name()} < p;
  });
  for (; it != in.end(); ++it) {
    std::string_view name;
    if constexpr (std::is_same_v<T, family_ref>)
      name = (*it)->name;
    else
      name = it->name();
    if (!name.starts_with(prefix))
      break;
    out.push_back(*it);
  }
}

} // namespace

snapshot snapshot::filtered(std::string_view prefix) const {
  snapshot r;
  copy_matching(r.families, families, prefix);
  copy_matching(r.counters, counters, prefix);
  copy_matching(r.updowns, updowns, prefix);
  copy_matching(r.gauges, gauges, prefix);
  copy_matching(r.histograms, histograms, prefix);
  r.wall_ns = wall_ns;
  r.mono_ns = mono_ns;
  return r;
}

const counter_sample* snapshot::find_counter(std::string_view name, const labels& ls) const {
  return find_sample(counters, name, ls);
}
const updown_sample* snapshot::find_updown_counter(std::string_view name, const labels& ls) const {
  return find_sample(updowns, name, ls);
}
const gauge_sample* snapshot::find_gauge(std::string_view name, const labels& ls) const {
  return find_sample(gauges, name, ls);
}
const histogram_sample* snapshot::find_histogram_sample(std::string_view name, const labels& ls) const {
  return find_sample(histograms, name, ls);
}
const histogram_snapshot* snapshot::find_histogram(std::string_view name, const labels& ls) const {
  auto* s = find_histogram_sample(name, ls);
  return s ? &s->data : nullptr;
}
const family_info* snapshot::find_family(std::string_view name) const {
  auto it = std::lower_bound(families.begin(), families.end(), name,
                             [](auto& f, std::string_view n) { return f->name < n; });
  return it != families.end() && (*it)->name == name ? it->get() : nullptr;
}

void snapshot::merge(const snapshot& other) {
  // Families first, so a kind clash throws before anything changes.
  auto kind_of = [](const family_info& f) -> std::string {
    return f.monotonic ? std::string{"settable counter ("} + to_string(f.kind) + ")" : to_string(f.kind);
  };
  for (auto& f : other.families)
    if (auto* mine = find_family(f->name); mine && (mine->kind != f->kind || mine->monotonic != f->monotonic))
      throw std::invalid_argument("metron: cannot merge snapshots: '" + f->name + "' is a " + kind_of(*mine)
                                  + " in one and a " + kind_of(*f) + " in the other");
  merge_sorted(families, other.families, [](family_ref& a, const family_ref& b) {
    if (a->help.empty() && !b->help.empty())
      a = b;
  });
  merge_sorted(counters, other.counters, [](counter_sample& a, const counter_sample& b) {
    a.total += b.total;
  });
  merge_sorted(updowns, other.updowns, [](updown_sample& a, const updown_sample& b) { a.total += b.total; });
  merge_sorted(gauges, other.gauges, [](gauge_sample& a, const gauge_sample& b) { a.current += b.current; });
  merge_sorted(histograms, other.histograms, [](histogram_sample& a, const histogram_sample& b) {
    a.data.merge(b.data);
  });
  wall_ns = std::max(wall_ns, other.wall_ns);
  mono_ns = std::max(mono_ns, other.mono_ns);
}

snapshot snapshot::minus(const snapshot& earlier) const {
  snapshot d;
  d.families = families;
  d.wall_ns = wall_ns;
  d.mono_ns = mono_ns;
  d.counters.reserve(counters.size());
  join_earlier(counters, earlier.counters, [&](const counter_sample& c, const counter_sample* e) {
    std::uint64_t before = e ? e->total : 0;
    d.counters.push_back({{c.series}, c.total >= before ? c.total - before : c.total});
  });
  d.updowns.reserve(updowns.size());
  join_earlier(updowns, earlier.updowns, [&](const updown_sample& u, const updown_sample* e) {
    d.updowns.push_back({{u.series}, static_cast<std::int64_t>(static_cast<std::uint64_t>(u.total)
                                                               - static_cast<std::uint64_t>(e ? e->total : 0))});
  });
  // Gauges keep this snapshot's value, except those of families declared monotonic
  // (settable counters), which subtract as counters do. Families and gauges are both
  // sorted by name, so one forward walk finds each gauge's family.
  d.gauges.reserve(gauges.size());
  auto family = families.begin();
  join_earlier(gauges, earlier.gauges, [&](const gauge_sample& g, const gauge_sample* e) {
    while (family != families.end() && (*family)->name < g.name())
      ++family;
    d.gauges.push_back(g);
    if (family != families.end() && (*family)->name == g.name() && (*family)->monotonic) {
      double before = e ? e->current : 0;
      d.gauges.back().current = g.current >= before ? g.current - before : g.current; // smaller: a reset
    }
  });
  d.histograms.reserve(histograms.size());
  join_earlier(histograms, earlier.histograms, [&](const histogram_sample& h, const histogram_sample* e) {
    d.histograms.push_back({{h.series}, e ? h.data.minus(e->data) : h.data});
  });
  return d;
}

} // namespace metron
